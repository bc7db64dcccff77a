//! Outgoing HTTP for plugins (cargo feature `http`): a blocking client over
//! `wasi:http/outgoing-handler`, for a state model that tells its own
//! application about a transition.
//!
//! ```no_run
//! use strand_plugin_sdk::http;
//!
//! let body = http::json_object(&[("partition", "db_3"), ("from", "OFFLINE"), ("to", "SLAVE")]);
//! match http::post_json("http://127.0.0.1:8080/transitions", &body) {
//!     Ok(status) => { /* 2xx */ }
//!     Err(http::HttpError::Denied(_)) => { /* no grant covers this address */ }
//!     Err(e) => { /* refused connection, other status, … */ }
//! }
//! ```
//!
//! The host reaches only what the participant grants the plugin
//! (`strand participant --grant PLUGIN=http://HOST:PORT[/prefix]`): any
//! other request fails with [`HttpError::Denied`] (`HttpRequestDenied`),
//! and the participant logs the plugin, the address and the grant it
//! lacked. Requests are plain `http://` (a node's own application); the
//! call's deadline bounds every wait.
//!
//! Only plugins that enable the feature — and call these functions — import
//! `wasi:http`: `wit-component` keeps no import a component does not use,
//! so every other plugin imports the same interfaces as before. (Cargo
//! unifies features within one build: a plugin built in the same workspace
//! as one that enables `http` links the `wasi` crate too, which moves its
//! WASI imports to that crate's newest patch version — `wasi:cli/…@0.2.12`
//! instead of `@0.2.6` — without adding any; the host serves every
//! `0.2.x`.)

use std::fmt;

use wasi::http::outgoing_handler;
use wasi::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, Scheme};

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The URL is not `http://host[:port][/path]`.
    InvalidUrl(String),
    /// The host refused the request: no grant of this plugin covers the
    /// address (`wasi:http`'s `HttpRequestDenied`). The participant's log
    /// names the grant it lacked.
    Denied(String),
    /// The request could not be built or sent, or no response came (a
    /// refused connection, a timeout, …): `wasi:http`'s error code.
    Failed(String),
    /// The server answered with a status other than 2xx.
    Status(u16),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(why) => write!(f, "invalid URL: {why}"),
            Self::Denied(url) => write!(
                f,
                "HttpRequestDenied: the host denied {url} (no network grant of this plugin covers it)"
            ),
            Self::Failed(why) => f.write_str(why),
            Self::Status(status) => write!(f, "status {status}"),
        }
    }
}

impl std::error::Error for HttpError {}

/// A response: its status, headers and whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, as sent.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The parts of an `http://` URL a request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target<'a> {
    authority: &'a str,
    path: &'a str,
}

fn parse(url: &str) -> Result<Target<'_>, HttpError> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        HttpError::InvalidUrl(format!("{url:?}: only http:// URLs are supported"))
    })?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], &rest[i..]),
        Some(_) => {
            return Err(HttpError::InvalidUrl(format!(
                "{url:?}: a query needs a path (http://host/path?query)"
            )));
        }
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(HttpError::InvalidUrl(format!("{url:?}: no host")));
    }
    if authority.contains('@') {
        return Err(HttpError::InvalidUrl(format!(
            "{url:?}: user information is not supported"
        )));
    }
    Ok(Target { authority, path })
}

/// Sends one request and reads the whole response. `headers` are added as
/// given (`content-length` is set from `body`).
///
/// # Errors
/// [`HttpError::InvalidUrl`], [`HttpError::Denied`] when no grant covers
/// the address, [`HttpError::Failed`] otherwise. Any status is a response
/// here; [`post_json`] turns a non-2xx one into [`HttpError::Status`].
pub fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, HttpError> {
    let target = parse(url)?;
    let failed = |what: &str| HttpError::Failed(format!("{what} refused"));
    let mut list: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
        .collect();
    list.push(("content-length".into(), body.len().to_string().into_bytes()));
    let fields =
        Fields::from_list(&list).map_err(|e| HttpError::Failed(format!("headers: {e:?}")))?;
    let request = OutgoingRequest::new(fields);
    request
        .set_method(&method_of(method))
        .map_err(|()| failed("the method"))?;
    request
        .set_scheme(Some(&Scheme::Http))
        .map_err(|()| failed("the scheme"))?;
    request
        .set_authority(Some(target.authority))
        .map_err(|()| failed("the authority"))?;
    request
        .set_path_with_query(Some(target.path))
        .map_err(|()| failed("the path"))?;
    let outgoing = request.body().map_err(|()| failed("the body"))?;
    let future = outgoing_handler::handle(request, None).map_err(|e| error(url, e))?;
    // A request the host refuses closes the body: the response says why,
    // so it is read before the write's own error counts.
    let written = write_body(outgoing, body);
    future.subscribe().block();
    let response = match future.get() {
        Some(Ok(Ok(r))) => r,
        Some(Ok(Err(code))) => return Err(error(url, code)),
        Some(Err(())) => return Err(HttpError::Failed("the response was taken twice".into())),
        None => return Err(HttpError::Failed("no response".into())),
    };
    written?;
    let status = response.status();
    let headers = response.headers().entries();
    let body = read_body(&response)?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// POSTs `json` (`content-type: application/json`) to `url`; the status.
///
/// # Errors
/// As [`send`], and [`HttpError::Status`] for a status other than 2xx.
pub fn post_json(url: &str, json: &str) -> Result<u16, HttpError> {
    let response = send(
        "POST",
        url,
        &[("content-type", "application/json")],
        json.as_bytes(),
    )?;
    if response.is_success() {
        Ok(response.status)
    } else {
        Err(HttpError::Status(response.status))
    }
}

/// A JSON object of string fields, in order: `{"k":"v",…}`.
pub fn json_object(fields: &[(&str, &str)]) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(&mut out, key);
        out.push(':');
        json_string(&mut out, value);
    }
    out.push('}');
    out
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn method_of(method: &str) -> Method {
    match method.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        "OPTIONS" => Method::Options,
        _ => Method::Other(method.to_owned()),
    }
}

fn error(url: &str, code: ErrorCode) -> HttpError {
    match code {
        ErrorCode::HttpRequestDenied => HttpError::Denied(url.to_owned()),
        other => HttpError::Failed(format!("{other:?}")),
    }
}

fn write_body(outgoing: OutgoingBody, body: &[u8]) -> Result<(), HttpError> {
    {
        let stream = outgoing
            .write()
            .map_err(|()| HttpError::Failed("the body stream was taken".into()))?;
        for chunk in body.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| HttpError::Failed(format!("writing the body: {e:?}")))?;
        }
    }
    OutgoingBody::finish(outgoing, None).map_err(|e| HttpError::Failed(format!("{e:?}")))
}

fn read_body(response: &wasi::http::types::IncomingResponse) -> Result<Vec<u8>, HttpError> {
    let incoming = response
        .consume()
        .map_err(|()| HttpError::Failed("the response body was taken".into()))?;
    let mut body = Vec::new();
    {
        let stream = incoming
            .stream()
            .map_err(|()| HttpError::Failed("the response body stream was taken".into()))?;
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => body.extend_from_slice(&chunk),
                Err(wasi::io::streams::StreamError::Closed) => break,
                Err(e) => return Err(HttpError::Failed(format!("reading the response: {e:?}"))),
            }
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_authority_and_path() {
        assert_eq!(
            parse("http://127.0.0.1:8080/hooks/x?y=1"),
            Ok(Target {
                authority: "127.0.0.1:8080",
                path: "/hooks/x?y=1"
            })
        );
        assert_eq!(parse("http://app").map(|t| t.path), Ok("/"), "no path is /");
        for bad in [
            "https://x/",
            "x:1/",
            "http:///x",
            "http://u@x/",
            "http://x?q",
        ] {
            assert!(matches!(parse(bad), Err(HttpError::InvalidUrl(_))), "{bad}");
        }
    }

    #[test]
    fn json_objects_escape_their_strings() {
        assert_eq!(
            json_object(&[("partition", "db_3"), ("to", "a\"b\\c\n\u{1}")]),
            r#"{"partition":"db_3","to":"a\"b\\c\n\u0001"}"#
        );
        assert_eq!(json_object(&[]), "{}");
    }

    #[test]
    fn denials_say_http_request_denied() {
        let e = HttpError::Denied("http://x:1/".into()).to_string();
        assert!(e.starts_with("HttpRequestDenied"), "{e}");
        assert_eq!(HttpError::Status(503).to_string(), "status 503");
    }
}
