//! The API in a browser's reach. Without a token, each attack a web page
//! can mount — a cross-site form or `no-cors` fetch that enables
//! maintenance mode, disables an instance or a resource, turns on
//! auto-join or force-deploys a plugin, and DNS rebinding — is refused and
//! ZooKeeper is left exactly as it was; tools (no `Origin`, JSON bodies)
//! and an origin the operator allowed keep working.

use crate::common::{Api, Reply};
use strand_devcluster::plugins::{names, plugin_path};
use strand_rest::{AllowedHost, AllowedOrigins, BearerToken, RestConfig};

const EVIL: &str = "http://evil.example";

fn component() -> Vec<u8> {
    std::fs::read(plugin_path(names::MASTER_SLAVE).expect("plugin built")).expect("read component")
}

/// A cluster with an instance and a resource to attack.
async fn target(api: &Api) {
    api.put("/clusters/C", "").await.expect(201);
    api.put("/clusters/C/instances/localhost_1", "")
        .await
        .expect(200);
    api.put(
        "/clusters/C/resources/db?numPartitions=2&stateModelRef=MasterSlave",
        "",
    )
    .await
    .expect(200);
}

/// What each attack sends: method, target, headers, body.
type Attack<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Vec<u8>);

fn attacks(evil_host: &str) -> Vec<(&'static str, Attack<'_>, u16)> {
    let auto_join = br#"{"id":"C","simpleFields":{"allowParticipantAutoJoin":"true"}}"#.to_vec();
    vec![
        (
            "cross-site form enabling maintenance mode",
            (
                "POST",
                "/clusters/C?command=enableMaintenanceMode",
                vec![("Origin", EVIL), ("Content-Type", "text/plain")],
                b"pwned".to_vec(),
            ),
            403,
        ),
        (
            "maintenance mode by text/plain without Origin",
            (
                "POST",
                "/clusters/C?command=enableMaintenanceMode",
                vec![("Content-Type", "text/plain;charset=UTF-8")],
                b"pwned".to_vec(),
            ),
            415,
        ),
        (
            "no-cors fetch disabling an instance",
            (
                "POST",
                "/clusters/C/instances/localhost_1?command=disable",
                vec![("Origin", EVIL)],
                Vec::new(),
            ),
            403,
        ),
        (
            "sandboxed page (Origin: null) disabling a resource",
            (
                "POST",
                "/clusters/C/resources/db?command=disable",
                vec![("Origin", "null")],
                Vec::new(),
            ),
            403,
        ),
        (
            "Sec-Fetch-Site cross-site without Origin disabling the cluster",
            (
                "POST",
                "/clusters/C?command=disable",
                vec![("Sec-Fetch-Site", "cross-site")],
                Vec::new(),
            ),
            403,
        ),
        (
            "auto-join by text/plain",
            (
                "POST",
                "/clusters/C/configs?command=update",
                vec![("Content-Type", "text/plain")],
                auto_join.clone(),
            ),
            415,
        ),
        (
            "auto-join by a url-encoded form",
            (
                "POST",
                "/clusters/C/configs?command=update",
                vec![("Content-Type", "application/x-www-form-urlencoded")],
                auto_join.clone(),
            ),
            415,
        ),
        (
            "auto-join by a multipart form",
            (
                "POST",
                "/clusters/C/configs?command=update",
                vec![("Content-Type", "multipart/form-data; boundary=x")],
                auto_join.clone(),
            ),
            415,
        ),
        (
            "auto-join cross-origin with JSON (a preflight this server never grants)",
            (
                "POST",
                "/clusters/C/configs?command=update",
                vec![("Origin", EVIL), ("Content-Type", "application/json")],
                auto_join,
            ),
            403,
        ),
        (
            "force-deploy of a plugin as a Blob (no Content-Type)",
            (
                "POST",
                "/clusters/C/plugins?force=true",
                Vec::new(),
                component(),
            ),
            415,
        ),
        (
            "force-deploy of a plugin cross-origin",
            (
                "POST",
                "/clusters/C/plugins?force=true",
                vec![("Origin", EVIL), ("Content-Type", "text/plain")],
                component(),
            ),
            403,
        ),
        (
            "DNS rebinding: a write to a foreign Host",
            (
                "POST",
                "/clusters/C?command=disable",
                vec![("Host", evil_host)],
                Vec::new(),
            ),
            403,
        ),
        (
            "DNS rebinding: a read of a foreign Host",
            ("GET", "/clusters/C", vec![("Host", evil_host)], Vec::new()),
            403,
        ),
        (
            "DNS rebinding: deleting the cluster from a foreign Host",
            (
                "DELETE",
                "/clusters/C",
                vec![("Host", evil_host)],
                Vec::new(),
            ),
            403,
        ),
    ]
}

async fn send(api: &Api, attack: &Attack<'_>) -> Reply {
    let (method, target, headers, body) = attack;
    api.raw(method, target, headers, body).await
}

#[tokio::test]
async fn every_attack_from_a_web_page_is_refused_and_changes_nothing() {
    let api = Api::start().await;
    target(&api).await;
    let before = api.snapshot().await;
    let port = api
        .address()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let evil_host = format!("evil.example:{port}");
    for (what, attack, status) in attacks(&evil_host) {
        let reply = send(&api, &attack).await;
        assert_eq!(reply.status, status, "{what}: {}", reply.text);
        assert!(!reply.error().is_empty(), "{what}: no reason given");
        assert!(
            reply.headers.get("access-control-allow-origin").is_none(),
            "{what}: CORS granted"
        );
    }
    assert_eq!(before, api.snapshot().await, "an attack changed ZooKeeper");
    // A preflight from a page is refused too.
    let preflight = api
        .raw(
            "OPTIONS",
            "/clusters/C?command=disable",
            &[("Origin", EVIL), ("Access-Control-Request-Method", "POST")],
            b"",
        )
        .await;
    assert_eq!(preflight.status, 403, "{}", preflight.text);
    assert!(
        preflight
            .headers
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn tools_and_this_server_s_own_names_keep_working() {
    let api = Api::start().await;
    target(&api).await;
    let address = api.address();
    let port = address.rsplit(':').next().unwrap_or_default().to_owned();
    // Localhost forms of the loopback address are this server.
    for host in [format!("localhost:{port}"), address.clone()] {
        api.raw("GET", "/clusters", &[("Host", &host)], b"")
            .await
            .expect(200);
    }
    // A tool's JSON write, and a same-origin one.
    api.raw(
        "POST",
        "/clusters/C?command=enableMaintenanceMode",
        &[("Content-Type", "application/json")],
        br#"{"reason":"upgrade"}"#,
    )
    .await
    .expect(200);
    let own = format!("http://{address}");
    api.raw(
        "POST",
        "/clusters/C?command=disableMaintenanceMode",
        &[("Origin", &own)],
        b"",
    )
    .await
    .expect(200);
    // Cross-origin reads are served (a page cannot read them: no CORS).
    let read = api
        .raw("GET", "/clusters/C", &[("Origin", EVIL)], b"")
        .await
        .expect(200);
    assert!(read.headers.get("access-control-allow-origin").is_none());
    // A plugin upload with a type no page sends without asking gets past
    // the guard to the store, which judges the bytes (these are not a
    // component; a real one is deployed in plugins.rs).
    let upload = api
        .raw(
            "POST",
            "/clusters/C/plugins",
            &[("Content-Type", "application/wasm")],
            b"\0asm-but-not-really",
        )
        .await;
    assert_eq!(upload.status, 400, "{}", upload.text);
}

#[tokio::test]
async fn an_allowed_origin_and_host_are_let_in_with_cors() {
    let ui = "http://ui.example:3000";
    let api = Api::start_with(RestConfig {
        allowed_origins: AllowedOrigins::parse(&[ui.to_owned()]).expect("origin"),
        allowed_hosts: vec![AllowedHost::parse("strand.example").expect("host")],
        ..RestConfig::default()
    })
    .await;
    target(&api).await;
    let port = api
        .address()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let preflight = api
        .raw(
            "OPTIONS",
            "/clusters/C/configs?command=update",
            &[
                ("Origin", ui),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ],
            b"",
        )
        .await
        .expect(204);
    assert_eq!(
        preflight
            .headers
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some(ui)
    );
    assert!(
        preflight
            .headers
            .get("access-control-allow-headers")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("Content-Type"))
    );
    let write = api
        .raw(
            "POST",
            "/clusters/C/configs?command=update",
            &[("Origin", ui), ("Content-Type", "application/json")],
            br#"{"id":"C","simpleFields":{"allowParticipantAutoJoin":"true"}}"#,
        )
        .await
        .expect(200);
    assert_eq!(
        write
            .headers
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some(ui)
    );
    // The allowed name, on the listen port, is this server; others are not.
    api.raw(
        "GET",
        "/clusters",
        &[("Host", &format!("strand.example:{port}"))],
        b"",
    )
    .await
    .expect(200);
    api.raw("GET", "/clusters", &[("Host", "strand.example:1")], b"")
        .await
        .expect(403);
    // Another origin still is not.
    api.raw(
        "POST",
        "/clusters/C?command=disable",
        &[("Origin", EVIL)],
        b"",
    )
    .await
    .expect(403);
}

#[tokio::test]
async fn with_a_token_the_token_is_the_guard() {
    let api = Api::start_with(RestConfig {
        token: BearerToken::new("t0ken"),
        ..RestConfig::default()
    })
    .await;
    // The page cannot know the token: a cross-origin write without it is 401.
    api.raw(
        "PUT",
        "/clusters/C",
        &[("Origin", EVIL), ("Content-Type", "text/plain")],
        b"",
    )
    .await
    .expect(401);
    // A client that has it may use any name and content type.
    api.raw(
        "PUT",
        "/clusters/C",
        &[
            ("Authorization", "Bearer t0ken"),
            ("Host", "strand.example"),
        ],
        b"",
    )
    .await
    .expect(201);
    api.raw(
        "POST",
        "/clusters/C?command=enableMaintenanceMode",
        &[
            ("Authorization", "Bearer t0ken"),
            ("Content-Type", "text/plain"),
        ],
        b"disk swap",
    )
    .await
    .expect(200);
}
