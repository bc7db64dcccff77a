//! Crates by footprint: only crates that run plugins link wasmtime. The
//! workspace's dependency graph, as `cargo metadata` resolves it, is walked
//! along normal dependencies (what a crate links; dev- and build-
//! dependencies are not): the crates listed in `ENGINE_FREE` must not reach
//! `wasmtime`, the plugin host must (or the walk proves nothing). The
//! README's crate table says the same in its "links wasmtime" lines. And
//! the development cluster (`strand-devcluster`: private ZooKeeper, test
//! harness) is linked by no product crate, only by the `strand` command.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Crates that run no plugin and so must not link wasmtime.
const ENGINE_FREE: [&str; 7] = [
    "strand-model",
    "strand-zk",
    "strand-admin",
    "strand-rebalance",
    "strand-spectator",
    "strand-plugin-store",
    "strand-rest",
];

/// Crates that run plugins: they link it.
const RUN_PLUGINS: [&str; 5] = [
    "strand-plugin-host",
    "strand-plugin-follower",
    "strand-participant",
    "strand-controller",
    "strand",
];

/// The triple of this machine (`rustc -vV`'s `host:`): the graph is
/// resolved for it, which needs no download of other platforms' crates.
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

/// Package id → (name, ids of its normal dependencies).
fn normal_graph() -> BTreeMap<String, (String, Vec<String>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host_triple()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    meta["resolve"]["nodes"]
        .as_array()
        .expect("resolve nodes")
        .iter()
        .filter_map(|node| {
            let id = node["id"].as_str()?;
            let deps = node["deps"]
                .as_array()?
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .is_some_and(|kinds| kinds.iter().any(|k| k["kind"].is_null()))
                })
                .filter_map(|d| d["pkg"].as_str().map(str::to_owned))
                .collect();
            Some((id.to_owned(), ((*names.get(id)?).to_owned(), deps)))
        })
        .collect()
}

/// The names of every crate `name` links (itself included).
fn links(graph: &BTreeMap<String, (String, Vec<String>)>, name: &str) -> BTreeSet<String> {
    let start = graph
        .iter()
        .find(|(_, (n, _))| n == name)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("{name} is not a workspace package"));
    let mut seen = BTreeSet::new();
    let mut frontier = vec![start];
    let mut out = BTreeSet::new();
    while let Some(id) = frontier.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        if let Some((n, deps)) = graph.get(&id) {
            out.insert(n.clone());
            frontier.extend(deps.iter().cloned());
        }
    }
    out
}

#[test]
fn only_crates_that_run_plugins_link_wasmtime() {
    let graph = normal_graph();
    for name in RUN_PLUGINS {
        assert!(
            links(&graph, name).contains("wasmtime"),
            "{name} runs plugins but the walk finds no wasmtime: the check is broken"
        );
    }
    let offenders: Vec<String> = ENGINE_FREE
        .iter()
        .filter(|name| links(&graph, name).contains("wasmtime"))
        .map(|name| (*name).to_owned())
        .collect();
    assert!(
        offenders.is_empty(),
        "{offenders:?} link wasmtime; only crates that run plugins may (validation that \
         needs an engine goes through strand_model::plugin::ComponentInspector)"
    );
}

/// Product crates: they link the development cluster only as a
/// dev-dependency.
const PRODUCT: [&str; 11] = [
    "strand-model",
    "strand-zk",
    "strand-admin",
    "strand-rebalance",
    "strand-spectator",
    "strand-plugin-store",
    "strand-rest",
    "strand-plugin-host",
    "strand-plugin-follower",
    "strand-participant",
    "strand-controller",
];

#[test]
fn no_product_crate_links_the_development_cluster() {
    let graph = normal_graph();
    assert!(
        links(&graph, "strand").contains("strand-devcluster"),
        "the strand command runs quickstart and bench on strand-devcluster: the check is broken"
    );
    let offenders: Vec<&str> = PRODUCT
        .into_iter()
        .filter(|name| links(&graph, name).contains("strand-devcluster"))
        .collect();
    assert!(
        offenders.is_empty(),
        "{offenders:?} link strand-devcluster; product crates may use it only as a dev-dependency"
    );
}
