//! `HttpNotify`: Helix's MasterSlave state model (the same states,
//! transitions and counts) that tells its application about every
//! transition — the meta-participant's "call some running entry point of
//! your application", as a sandboxed plugin. What it calls comes from the
//! resource's config (simple fields):
//!
//! | key | what the plugin does on each transition |
//! |---|---|
//! | `NOTIFY_URL` | `POST` of `{"partition":…,"from":…,"to":…}` (JSON) to this `http://` URL through `wasi:http/outgoing-handler` (the SDK's `http::post_json`); a status other than 2xx fails the transition |
//! | `NOTIFY_TCP` | connects to this `HOST:PORT` (`wasi:sockets`, through Rust's `std::net`), writes the same JSON and a newline, and waits for a line starting with `OK` |
//!
//! `{host}` and `{port}` in either value stand for the calling instance's
//! host and port as its name gives them (`host_port`), so one resource
//! config reaches each node's own application. Without either key the
//! transition just succeeds. Any failure — the host denying the address
//! (`HttpRequestDenied`, `access-denied`), a refused connection, a bad
//! answer — fails the transition (`fatal`: the partition goes to ERROR,
//! with the reason); a hung application is ended by the host's deadline.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

use strand_plugin_sdk::{
    Level, MASTER_SLAVE_STATES, MASTER_SLAVE_TRANSITIONS, ModelDefinition, ModelSpec, StateModel,
    Transition, TransitionError, export_state_model, http,
};

const SPEC: ModelSpec = ModelSpec {
    name: "HttpNotify",
    version: env!("CARGO_PKG_VERSION"),
    states: MASTER_SLAVE_STATES,
    transitions: MASTER_SLAVE_TRANSITIONS,
    initial: "OFFLINE",
};

struct HttpNotify;

impl StateModel for HttpNotify {
    fn definition(&self) -> ModelDefinition {
        SPEC.definition()
    }

    fn transition(&self, t: &Transition) -> Result<String, TransitionError> {
        SPEC.check_legal(t)?;
        let body = http::json_object(&[
            ("partition", t.partition()),
            ("from", t.from_state()),
            ("to", t.to_state()),
        ]);
        let mut notes = Vec::new();
        if let Some(url) = t.config("NOTIFY_URL") {
            let url = t.fill_in(url);
            let status = http::post_json(&url, &body)
                .map_err(|e| TransitionError::fatal(format!("POST {url}: {e}")))?;
            notes.push(format!("POST {url}: {status}"));
        }
        if let Some(address) = t.config("NOTIFY_TCP") {
            let address = t.fill_in(address);
            let reply = tell(&address, &body)
                .map_err(|e| TransitionError::fatal(format!("tcp {address}: {e}")))?;
            notes.push(format!("tcp {address}: {reply}"));
        }
        let note = notes.join("; ");
        if !note.is_empty() {
            t.log(Level::Info, &format!("{}: {note}", t.partition()));
        }
        SPEC.transition(t)?;
        Ok(note)
    }
}

/// Writes `body` and a newline to `address`, reads one line back; it must
/// start with `OK`.
fn tell(address: &str, body: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(address).map_err(|e| e.to_string())?;
    stream
        .write_all(format!("{body}\n").as_bytes())
        .map_err(|e| format!("writing: {e}"))?;
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .map_err(|e| format!("reading the answer: {e}"))?;
    let line = line.trim_end().to_owned();
    if line.starts_with("OK") {
        Ok(line)
    } else {
        Err(format!("answered {line:?}"))
    }
}

export_state_model!(HttpNotify);
