//! Outbound calls of plugins, denied unless granted: the real
//! `http-notify` component against real servers on loopback ports started
//! by the test (a small HTTP/1.1 server, a line-based TCP server, and
//! servers that accept and never answer).
//!
//! `HttpNotify` in each language — Rust (the SDK's `http::post_json`),
//! Python (`plugins/python/http-notify`, componentize-py's `wasi:http`
//! bindings) and JavaScript (`plugins/js/http-notify`, `fetch`) — is run
//! the same way: granted, each transition reaches the server as one POST
//! of its JSON and succeeds; a non-2xx answer fails it; outside the grants
//! the plugin sees the permission error and the host logs the plugin, the
//! address and the grant it lacked.
//!
//! Granted, the transition succeeds and the server saw the request; not
//! granted, it fails with the permission error (`HttpRequestDenied`,
//! access denied), nothing reached the server, and the host logged the
//! plugin, the address and the grant it lacked; a hung application ends
//! the call at its deadline (the call's timeout), never a stuck caller.

use std::sync::{Arc, mpsc};
use std::time::Duration;

use strand_devcluster::loopback::{Answer, serve};
use strand_devcluster::plugins::names;
use strand_plugin_host::net::{InstanceAddress, NetRule};
use strand_plugin_host::{
    CallError, CallOptions, Grants, PluginOptions, PluginRegistry, Rejection, StateModelHandle,
    TransitionContext,
};

use crate::common::{ctx, registry_with};
use crate::guest_output::captured_log;

fn grants(rules: &[&str]) -> PluginOptions {
    PluginOptions {
        grants: Grants {
            network: rules
                .iter()
                .map(|r| r.parse::<NetRule>().expect("a valid rule"))
                .collect(),
            ..Grants::default()
        },
        ..PluginOptions::default()
    }
}

fn model(options: PluginOptions) -> StateModelHandle {
    registry_with("HttpNotify", names::HTTP_NOTIFY, options)
        .state_model("HttpNotify")
        .expect("installed")
}

fn notify(key: &str, value: &str) -> TransitionContext {
    let mut c = ctx("db_3", "OFFLINE", "SLAVE");
    c.config.push((key.into(), value.into()));
    c
}

/// Runs the call on a thread; a call still running after five minutes
/// is a stuck participant.
fn call(
    model: &StateModelHandle,
    c: &TransitionContext,
    opts: CallOptions,
) -> Result<String, CallError> {
    let (tx, rx) = mpsc::channel();
    let (model, c) = (model.clone(), c.clone());
    std::thread::spawn(move || {
        let _ = tx.send(model.transition(&c, &opts).map(|o| o.note));
    });
    rx.recv_timeout(Duration::from_secs(300))
        .expect("the call ended (a hung application must not hang the caller)")
}

fn fatal_reason(result: Result<String, CallError>) -> String {
    match result {
        Err(CallError::Rejected {
            kind: Rejection::Fatal,
            message,
        }) => message,
        other => panic!("expected a fatal rejection, got {other:?}"),
    }
}

#[test]
fn granted_http_reaches_the_server() {
    let (port, seen) = serve(Answer::Http);
    let m = model(grants(&[&format!("http://127.0.0.1:{port}/hooks")]));
    let c = notify(
        "NOTIFY_URL",
        &format!("http://127.0.0.1:{port}/hooks/transition"),
    );
    let note = call(&m, &c, CallOptions::default()).expect("granted call succeeds");
    assert!(note.contains("200"), "{note}");
    assert_eq!(
        seen.requests(),
        vec![
            r#"POST /hooks/transition HTTP/1.1 {"partition":"db_3","from":"OFFLINE","to":"SLAVE"}"#
        ]
    );
}

#[test]
fn http_outside_the_grants_is_denied_and_logged() {
    let log = captured_log();
    let (port, seen) = serve(Answer::Http);
    // Nothing granted at all; then a grant for another path prefix.
    for options in [
        PluginOptions::default(),
        grants(&[&format!("http://127.0.0.1:{port}/other")]),
    ] {
        let m = model(options);
        let c = notify("NOTIFY_URL", &format!("http://127.0.0.1:{port}/hooks"));
        let reason = fatal_reason(call(&m, &c, CallOptions::default()));
        assert!(reason.contains("HttpRequestDenied"), "{reason}");
    }
    assert_eq!(seen.connections(), 0, "nothing reached the server");
    let text = log.text();
    let wanted = format!("lacks a grant such as http://127.0.0.1:{port}/hooks");
    let line = text
        .lines()
        .find(|l| l.contains(&wanted))
        .unwrap_or_else(|| panic!("no denial logged with {wanted:?} in:\n{text}"));
    assert!(
        line.contains("HttpNotify") && line.contains("denied HTTP POST"),
        "{line}"
    );
}

#[test]
fn placeholders_are_the_calling_instances_address() {
    let (port, seen) = serve(Answer::Http);
    let m = model(grants(&["http://{host}:{port}"]));
    let c = notify("NOTIFY_URL", &format!("http://127.0.0.1:{port}/"));
    let me = CallOptions {
        instance: Some(InstanceAddress {
            host: "127.0.0.1".into(),
            port: Some(port),
        }),
        ..CallOptions::default()
    };
    call(&m, &c, me).expect("the instance's own address is granted");
    // Another instance (another port) is not granted this server.
    let other = CallOptions {
        instance: Some(InstanceAddress {
            host: "127.0.0.1".into(),
            port: Some(port.wrapping_add(1).max(1)),
        }),
        ..CallOptions::default()
    };
    let reason = fatal_reason(call(&m, &c, other));
    assert!(reason.contains("HttpRequestDenied"), "{reason}");
    // Without an instance, a rule naming {host} grants nothing.
    let reason = fatal_reason(call(&m, &c, CallOptions::default()));
    assert!(reason.contains("HttpRequestDenied"), "{reason}");
    assert_eq!(seen.requests().len(), 1);
}

#[test]
fn tcp_is_denied_unless_granted() {
    let log = captured_log();
    let (port, seen) = serve(Answer::Line);
    let c = notify("NOTIFY_TCP", &format!("127.0.0.1:{port}"));
    let reason = fatal_reason(call(
        &model(PluginOptions::default()),
        &c,
        CallOptions::default(),
    ));
    assert!(reason.to_lowercase().contains("denied"), "{reason}");
    assert_eq!(seen.connections(), 0, "nothing reached the server");
    let wanted = format!("lacks a grant such as tcp:127.0.0.1:{port}");
    assert!(
        log.text().contains(&wanted),
        "no denial logged with {wanted:?}"
    );

    let m = model(grants(&[&format!(
        "tcp:127.0.0.1:{}-{}",
        port,
        port.saturating_add(2)
    )]));
    let note = call(&m, &c, CallOptions::default()).expect("granted connection succeeds");
    assert!(note.contains("OK noted"), "{note}");
    assert_eq!(
        seen.requests(),
        vec![r#"{"partition":"db_3","from":"OFFLINE","to":"SLAVE"}"#]
    );
}

#[test]
fn a_hung_application_ends_the_call_at_its_deadline() {
    let (port, seen) = serve(Answer::Never);
    let m = model(grants(&[
        &format!("http://127.0.0.1:{port}"),
        &format!("tcp:127.0.0.1:{port}"),
    ]));
    let deadline = Duration::from_secs(2);
    for (key, value) in [
        ("NOTIFY_URL", format!("http://127.0.0.1:{port}/")),
        ("NOTIFY_TCP", format!("127.0.0.1:{port}")),
    ] {
        let c = notify(key, &value);
        // Either the wait traps at the deadline (the call's timeout), or the
        // plugin hears the HTTP response timeout and fails the transition.
        match call(&m, &c, CallOptions::with_deadline(deadline)) {
            Err(CallError::Timeout { deadline: d, .. }) => assert_eq!(d, deadline),
            Err(CallError::Rejected {
                kind: Rejection::Fatal,
                message,
            }) if message.contains("Timeout") => {}
            other => panic!("{key}: expected the call's timeout, got {other:?}"),
        }
    }
    assert_eq!(seen.connections(), 2, "both calls reached the server");
    // The plugin still serves: a transition without a call succeeds.
    call(&m, &ctx("db_4", "OFFLINE", "SLAVE"), CallOptions::default()).expect("still serving");
}

/// `HttpNotify` in the three languages.
const LANGUAGES: [&str; 3] = [
    names::HTTP_NOTIFY,
    names::PY_HTTP_NOTIFY,
    names::JS_HTTP_NOTIFY,
];

/// The plugin `name` installed under its own name (so log lines say which
/// language), on the persistent compiled cache: a Python or JavaScript
/// component compiles once per machine.
fn installed(name: &str, options: PluginOptions) -> (Arc<PluginRegistry>, StateModelHandle) {
    let registry = PluginRegistry::new(crate::polyglot::host());
    registry
        .install_file(name, &crate::polyglot::compiled(name), options)
        .unwrap_or_else(|e| panic!("install {name}: {e}"));
    let model = registry.state_model(name).expect("installed");
    (registry, model)
}

/// A transition of `db_3` by the instance `127.0.0.1_<port>`, told to POST
/// to `http://{host}:{port}/hooks/transition` (the instance's own address).
fn to_own_application(port: u16, from: &str, to: &str) -> TransitionContext {
    let mut c = ctx("db_3", from, to);
    c.instance = format!("127.0.0.1_{port}");
    c.config.push((
        "NOTIFY_URL".into(),
        "http://{host}:{port}/hooks/transition".into(),
    ));
    c
}

#[test]
fn every_language_posts_each_transition_to_its_granted_application() {
    for name in LANGUAGES {
        let (port, seen) = serve(Answer::Http);
        let (_registry, m) = installed(name, grants(&[&format!("http://127.0.0.1:{port}/hooks")]));
        for (from, to) in [("OFFLINE", "SLAVE"), ("SLAVE", "MASTER")] {
            let note = call(
                &m,
                &to_own_application(port, from, to),
                CallOptions::default(),
            )
            .unwrap_or_else(|e| panic!("{name}: {from}->{to}: {e}"));
            assert_eq!(
                note,
                format!("POST http://127.0.0.1:{port}/hooks/transition: 200"),
                "{name}"
            );
        }
        // A pair the model does not allow is refused before any request.
        match call(
            &m,
            &to_own_application(port, "OFFLINE", "MASTER"),
            CallOptions::default(),
        ) {
            Err(CallError::Rejected {
                kind: Rejection::IllegalTransition,
                ..
            }) => {}
            other => panic!("{name}: expected an illegal transition, got {other:?}"),
        }
        assert_eq!(
            seen.requests(),
            [
                r#"POST /hooks/transition HTTP/1.1 {"partition":"db_3","from":"OFFLINE","to":"SLAVE"}"#,
                r#"POST /hooks/transition HTTP/1.1 {"partition":"db_3","from":"SLAVE","to":"MASTER"}"#,
            ],
            "{name}: one POST of its JSON per transition"
        );
    }
}

#[test]
fn every_language_fails_the_transition_when_the_application_answers_non_2xx() {
    for name in LANGUAGES {
        let (port, seen) = serve(Answer::HttpStatus(503));
        let (_registry, m) = installed(name, grants(&[&format!("http://127.0.0.1:{port}")]));
        let reason = fatal_reason(call(
            &m,
            &to_own_application(port, "OFFLINE", "SLAVE"),
            CallOptions::default(),
        ));
        assert!(
            reason.starts_with(&format!("POST http://127.0.0.1:{port}/hooks/transition: "))
                && reason.contains("503"),
            "{name}: {reason}"
        );
        assert_eq!(seen.requests().len(), 1, "{name}: the request got there");
    }
}

#[test]
fn every_language_sees_a_permission_error_outside_its_grants_and_the_host_logs_it() {
    let log = captured_log();
    for name in LANGUAGES {
        let (port, seen) = serve(Answer::Http);
        // A grant for another path prefix of the same origin.
        let (_registry, m) = installed(name, grants(&[&format!("http://127.0.0.1:{port}/other")]));
        let reason = fatal_reason(call(
            &m,
            &to_own_application(port, "OFFLINE", "SLAVE"),
            CallOptions::default(),
        ));
        // Rust and Python get wasi:http's own error code; componentize-js's
        // `fetch` rejects with its generic network error, whatever the code.
        let permission_error = if name == names::JS_HTTP_NOTIFY {
            "request failed: NetworkError when attempting to fetch resource"
        } else {
            "HttpRequestDenied"
        };
        assert!(
            reason.starts_with(&format!("POST http://127.0.0.1:{port}/hooks/transition: "))
                && reason.contains(permission_error),
            "{name}: {reason}"
        );
        assert_eq!(seen.connections(), 0, "{name}: nothing reached the server");
        let wanted = format!(
            "lacks a grant such as http://127.0.0.1:{port}/hooks/transition (grants: http://127.0.0.1:{port}/other)"
        );
        let text = log.text();
        let line = text
            .lines()
            .find(|l| l.contains(&wanted))
            .unwrap_or_else(|| panic!("{name}: no denial logged with {wanted:?} in:\n{text}"));
        assert!(
            line.contains(&format!("plugin {name}@"))
                && line.contains(&format!(
                    "denied HTTP POST http://127.0.0.1:{port}/hooks/transition"
                )),
            "{name}: {line}"
        );
    }
}
