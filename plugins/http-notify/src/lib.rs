//! `HttpNotify`: Helix's MasterSlave state model (the same states,
//! transitions and counts) that tells its application about every
//! transition — the meta-participant's "call some running entry point of
//! your application", as a sandboxed plugin. What it calls comes from the
//! resource's config (simple fields):
//!
//! | key | what the plugin does on each transition |
//! |---|---|
//! | `NOTIFY_URL` | `POST` of `{"partition":…,"from":…,"to":…}` (JSON) to this `http://` URL through `wasi:http/outgoing-handler`; a status other than 2xx fails the transition |
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
    Count, Level, ModelDefinition, ModelSpec, StateModel, Transition, TransitionError,
    export_state_model,
};
use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};

const SPEC: ModelSpec = ModelSpec {
    name: "HttpNotify",
    version: env!("CARGO_PKG_VERSION"),
    states: &[
        ("MASTER", Count::Number(1)),
        ("SLAVE", Count::Replicas),
        ("OFFLINE", Count::Unbounded),
        ("DROPPED", Count::Unbounded),
        ("ERROR", Count::Unbounded),
    ],
    transitions: &[
        ("MASTER", "SLAVE"),
        ("SLAVE", "MASTER"),
        ("OFFLINE", "SLAVE"),
        ("SLAVE", "OFFLINE"),
        ("OFFLINE", "DROPPED"),
    ],
    initial: "OFFLINE",
};

struct HttpNotify;

impl StateModel for HttpNotify {
    fn definition(&self) -> ModelDefinition {
        SPEC.definition()
    }

    fn transition(&self, t: &Transition) -> Result<String, TransitionError> {
        let body = format!(
            "{{\"partition\":{},\"from\":{},\"to\":{}}}",
            json_string(t.partition()),
            json_string(t.from_state()),
            json_string(t.to_state())
        );
        let mut notes = Vec::new();
        if let Some(url) = t.config("NOTIFY_URL") {
            let url = fill_in(url, t.instance());
            let status = post(&url, &body)
                .map_err(|e| TransitionError::fatal(format!("POST {url}: {e}")))?;
            notes.push(format!("POST {url}: {status}"));
        }
        if let Some(address) = t.config("NOTIFY_TCP") {
            let address = fill_in(address, t.instance());
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

/// `{host}` and `{port}` replaced by the instance's (`host_port`).
fn fill_in(template: &str, instance: &str) -> String {
    let (host, port) = instance.rsplit_once('_').unwrap_or((instance, ""));
    template.replace("{host}", host).replace("{port}", port)
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// POSTs `body` to an `http://host[:port]/path` URL; the response status.
fn post(url: &str, body: &str) -> Result<u16, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let headers = Fields::from_list(&[
        ("content-type".into(), b"application/json".to_vec()),
        ("content-length".into(), body.len().to_string().into_bytes()),
    ])
    .map_err(|e| format!("headers: {e:?}"))?;
    let request = OutgoingRequest::new(headers);
    let unit = |what: &'static str| move |()| what.to_owned();
    request.set_method(&Method::Post).map_err(unit("method"))?;
    request
        .set_scheme(Some(&Scheme::Http))
        .map_err(unit("scheme"))?;
    request
        .set_authority(Some(authority))
        .map_err(unit("authority"))?;
    request
        .set_path_with_query(Some(path))
        .map_err(unit("path"))?;
    let outgoing = request.body().map_err(unit("body"))?;
    let response = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    // A request the host refuses closes the body: the response says why.
    let written = write_body(outgoing, body);
    response.subscribe().block();
    let response = match response.get() {
        Some(Ok(Ok(r))) => r,
        Some(Ok(Err(code))) => return Err(format!("{code:?}")),
        Some(Err(())) => return Err("response taken twice".into()),
        None => return Err("no response".into()),
    };
    written?;
    let status = response.status();
    if !(200..300).contains(&status) {
        return Err(format!("status {status}"));
    }
    Ok(status)
}

fn write_body(outgoing: OutgoingBody, body: &str) -> Result<(), String> {
    {
        let stream = outgoing.write().map_err(|()| "body stream".to_owned())?;
        for chunk in body.as_bytes().chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| format!("writing the body: {e:?}"))?;
        }
    }
    OutgoingBody::finish(outgoing, None).map_err(|e| format!("{e:?}"))
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
