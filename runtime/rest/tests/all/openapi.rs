//! `openapi.json` describes exactly the routes the router serves.

use std::collections::BTreeSet;

use serde_json::Value;

fn openapi() -> Value {
    let text = include_str!("../../openapi.json");
    serde_json::from_str(text).expect("openapi.json is valid JSON")
}

#[test]
fn every_served_route_is_documented_and_every_documented_route_is_served() {
    let spec = openapi();
    assert!(
        spec["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "an OpenAPI 3 document"
    );
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if method == "parameters" {
                continue;
            }
            assert!(
                operation["responses"].is_object(),
                "{method} {path} has no responses"
            );
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let served: BTreeSet<(String, String)> = strand_rest::routes()
        .into_iter()
        .map(|r| (r.verb.method().to_string(), r.path))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in openapi.json: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "in openapi.json but not served: {unserved:?}"
    );
}

#[test]
fn every_path_parameter_is_declared() {
    let spec = openapi();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for (method, operation) in item.as_object().expect("path item") {
            let declared: BTreeSet<String> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(item["parameters"].as_array().into_iter().flatten())
                .map(|p| resolve(&spec, p))
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            for name in &in_path {
                if method != "parameters" {
                    assert!(
                        declared.contains(*name),
                        "{method} {path}: {{{name}}} undeclared"
                    );
                }
            }
        }
    }
}

/// Follows a `$ref` to `#/components/parameters/…`.
fn resolve(spec: &Value, parameter: &Value) -> Value {
    match parameter["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/parameters/");
            spec["components"]["parameters"][name].clone()
        }
        None => parameter.clone(),
    }
}
