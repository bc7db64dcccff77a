//! The browser guard: what keeps a web page the operator happens to open
//! from driving the API (DNS rebinding, cross-site form posts,
//! `fetch(…, {mode: "no-cors"})`).
//!
//! Without a bearer token (which no page can attach on its own):
//! * every request's `Host` must be the address the API listens on — its
//!   IP literal, a localhost form when that is loopback, any IP literal
//!   when it listens on all addresses — or one the operator allowed
//!   (`--allow-host`, the hosts of `--allow-origin`); a DNS name that
//!   rebinds to this machine is refused (403);
//! * a mutating request (anything but GET, HEAD, OPTIONS) is refused (403)
//!   when it carries an `Origin` that is neither this server's own nor an
//!   allowed one (`Origin: null` included), or `Sec-Fetch-Site:
//!   cross-site|same-site` without an allowed `Origin`; and (415) when its
//!   `Content-Type` is one a browser sends cross-origin without asking first
//!   (`text/plain`, `application/x-www-form-urlencoded`,
//!   `multipart/form-data`) or when it has a body and no `Content-Type`.
//!
//! With or without a token, an allowed origin gets CORS answers
//! (`Access-Control-Allow-Origin`, preflights), so a web UI the operator
//! chose can use the API; no other origin ever does.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// An origin as browsers send it: scheme, host (lowercase) and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// Parses `http://host[:port]` or `https://host[:port]` (no path).
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid =
            |why: &str| format!("{text:?} is not an origin (scheme://host[:port]): {why}");
        let (scheme, rest) = text.split_once("://").ok_or_else(|| invalid("no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(invalid("the scheme must be http or https")),
        };
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(invalid("expected only a host and a port"));
        }
        let (host, port) = split_host(rest, default_port).ok_or_else(|| invalid("bad port"))?;
        Ok(Self { scheme, host, port })
    }

    fn host_and_port(&self) -> (String, u16) {
        (self.host.clone(), self.port)
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Which origins may use the API from a browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// None: the API is for tools, not web pages (the default).
    #[default]
    None,
    /// These.
    Listed(Vec<Origin>),
    /// Any (`--allow-origin '*'`): the operator opened it deliberately.
    Any,
}

impl AllowedOrigins {
    /// Parses `--allow-origin` values: origins, or `*` alone.
    pub fn parse(values: &[String]) -> Result<Self, String> {
        if values.is_empty() {
            return Ok(Self::None);
        }
        if values.iter().any(|v| v == "*") {
            if values.len() > 1 {
                return Err("--allow-origin '*' allows every origin; give it alone".into());
            }
            return Ok(Self::Any);
        }
        values
            .iter()
            .map(|v| Origin::parse(v))
            .collect::<Result<Vec<_>, _>>()
            .map(Self::Listed)
    }

    fn allows(&self, origin: &str) -> bool {
        match self {
            Self::None => false,
            Self::Any => true,
            Self::Listed(list) => Origin::parse(origin).is_ok_and(|o| list.contains(&o)),
        }
    }
}

/// A `Host` the operator allows besides the listen address
/// (`--allow-host NAME[:PORT]`; without a port, the listen port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    host: String,
    port: Option<u16>,
}

impl AllowedHost {
    /// Parses `name`, `name:port` or `[v6]:port`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("{text:?} is not host or host:port");
        if text.contains(['/', '@', '?', '#', ' ']) {
            return Err(invalid());
        }
        // Parse with two different default ports to tell whether one was given.
        let (host, with_80) = split_host(text, 80).ok_or_else(invalid)?;
        let (_, with_81) = split_host(text, 81).ok_or_else(invalid)?;
        Ok(Self {
            host,
            port: (with_80 == with_81).then_some(with_80),
        })
    }
}

/// The address the listener serving a request is bound to; [`crate::serve`]
/// puts it in every request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct ServedAddr(pub SocketAddr);

/// Who the guard lets in; built once from the config.
#[derive(Debug)]
pub struct BrowserGuard {
    /// Whether requests are checked (no token configured).
    enforce: bool,
    /// The configured listen address, for a router served without
    /// [`crate::serve`] (which tells the real one per request).
    listen: Option<SocketAddr>,
    /// Allowed names without a port of their own (the listen port applies).
    names: Vec<String>,
    /// `(host, port)` accepted in `Host` besides the listen address forms.
    extra_hosts: Vec<(String, u16)>,
    origins: AllowedOrigins,
}

impl BrowserGuard {
    /// The guard for a server listening on `listen`; `enforce` is false
    /// when a bearer token protects mutating requests.
    pub fn new(
        enforce: bool,
        listen: Option<SocketAddr>,
        allowed_hosts: &[AllowedHost],
        origins: AllowedOrigins,
    ) -> Self {
        let mut extra_hosts = Vec::new();
        let mut names = Vec::new();
        for allowed in allowed_hosts {
            match allowed.port {
                Some(port) => extra_hosts.push((allowed.host.clone(), port)),
                None => names.push(allowed.host.clone()),
            }
        }
        if let AllowedOrigins::Listed(list) = &origins {
            extra_hosts.extend(list.iter().map(Origin::host_and_port));
        }
        Self {
            enforce,
            listen,
            names,
            extra_hosts,
            origins,
        }
    }

    /// Whether `Host: <value>` names this server, listening on `listen`
    /// (unknown: only localhost forms, on any port).
    fn host_allowed(&self, value: &str, listen: Option<SocketAddr>) -> bool {
        if self.origins == AllowedOrigins::Any {
            return true;
        }
        let Some((host, port)) = split_host(value, 80) else {
            return false;
        };
        if self.extra_hosts.contains(&(host.clone(), port)) {
            return true;
        }
        let Some(listen) = listen.or(self.listen) else {
            return host == "localhost" || ip_literal(&host).is_some_and(|ip| ip.is_loopback());
        };
        if port != listen.port() {
            return false;
        }
        if self.names.contains(&host) {
            return true;
        }
        let ip = listen.ip();
        let literal = ip_literal(&host);
        let local_name = host == "localhost" || literal.is_some_and(|l| l.is_loopback());
        literal == Some(ip)
            || ((ip.is_loopback() || ip.is_unspecified()) && local_name)
            // Listening on every address: an IP literal cannot be rebound.
            || (ip.is_unspecified() && literal.is_some())
    }

    /// Why a mutating request is refused, if it is.
    fn refuse_mutation(&self, headers: &HeaderMap) -> Option<ApiError> {
        let origin = header_str(headers, header::ORIGIN);
        if let Some(origin) = origin {
            let own =
                header_str(headers, header::HOST).is_some_and(|host| same_origin(origin, host));
            if !own && !self.origins.allows(origin) {
                return Some(ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "a cross-origin request from {origin} cannot change the cluster; \
                         start strand rest with --allow-origin {origin} to let that page in, \
                         or with --token-file"
                    ),
                ));
            }
        } else if let Some(site @ ("cross-site" | "same-site")) =
            header_str(headers, "sec-fetch-site")
        {
            return Some(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("a {site} browser request cannot change the cluster (no allowed Origin)"),
            ));
        }
        let content_type = header_str(headers, header::CONTENT_TYPE)
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|v| !v.is_empty());
        match content_type.as_deref() {
            Some(
                simple @ ("text/plain"
                | "application/x-www-form-urlencoded"
                | "multipart/form-data"),
            ) => Some(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Content-Type {simple} is refused without --token-file: any web page can send \
                     it here without asking; send application/json (a plugin upload: \
                     application/wasm)"
                ),
            )),
            None if has_body(headers) => Some(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "a request body needs a Content-Type (application/json; a plugin upload: \
                 application/wasm)",
            )),
            _ => None,
        }
    }

    /// The origin to answer CORS for, if the request comes from an allowed one.
    fn cors_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        self.origins
            .allows(origin.to_str().ok()?)
            .then(|| origin.clone())
    }
}

/// The middleware.
pub async fn check(
    State(guard): State<Arc<BrowserGuard>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let cors = guard.cors_origin(headers);
    let listen = request
        .extensions()
        .get::<ServedAddr>()
        .map(|served| served.0)
        .or(guard.listen);
    if guard.enforce
        && let Some(host) = header_str(headers, header::HOST)
        && !guard.host_allowed(host, listen)
    {
        let served = listen.map_or_else(|| "localhost".to_owned(), |a| a.to_string());
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "Host {host} is not this server ({served}); without --token-file only requests \
                 addressed to it are served (use --allow-host to add a name)"
            ),
        )
        .into_response();
    }
    if request.method() == Method::OPTIONS
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return preflight(cors);
    }
    if guard.enforce
        && !matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        )
        && let Some(refusal) = guard.refuse_mutation(headers)
    {
        return refusal.into_response();
    }
    let mut response = next.run(request).await;
    if let Some(origin) = cors {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// The answer to a CORS preflight: the methods and headers the API takes,
/// for an allowed origin only.
fn preflight(cors: Option<HeaderValue>) -> Response {
    let Some(origin) = cors else {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "this origin may not use the API from a browser (see --allow-origin)",
        )
        .into_response();
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, PUT, POST, DELETE"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Content-Type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the request declares a body.
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || header_str(headers, header::CONTENT_LENGTH).is_some_and(|n| {
            // An unreadable length is treated as a body.
            !matches!(n.trim().parse::<u64>(), Ok(0))
        })
}

/// Whether `origin` is `http://<host>` of this very request.
fn same_origin(origin: &str, host: &str) -> bool {
    match (Origin::parse(origin), split_host(host, 80)) {
        (Ok(origin), Some(host)) => origin.scheme == "http" && origin.host_and_port() == host,
        _ => false,
    }
}

/// The IP address a `Host` names literally (`10.0.0.1`, `[::1]`), if any.
fn ip_literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// `host[:port]` (IPv6 in brackets) → lowercase host and port.
fn split_host(text: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{v6}]"), port)
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (text.to_owned(), None),
        }
    };
    let port = match port {
        None => default_port,
        Some(p) => p.parse().ok()?,
    };
    if host.is_empty() {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(listen: &str, hosts: &[&str], origins: &[&str]) -> BrowserGuard {
        let hosts: Vec<AllowedHost> = hosts
            .iter()
            .map(|h| AllowedHost::parse(h).expect("host"))
            .collect();
        let origins: Vec<String> = origins.iter().map(|h| (*h).to_owned()).collect();
        BrowserGuard::new(
            true,
            Some(listen.parse().expect("address")),
            &hosts,
            AllowedOrigins::parse(&origins).expect("origins"),
        )
    }

    #[test]
    fn hosts_of_a_loopback_listener() {
        let g = guard("127.0.0.1:8100", &[], &[]);
        for ok in [
            "127.0.0.1:8100",
            "localhost:8100",
            "LOCALHOST:8100",
            "[::1]:8100",
        ] {
            assert!(g.host_allowed(ok, None), "{ok}");
        }
        for bad in [
            "evil.example:8100",
            "127.0.0.1:8101",
            "localhost",
            "10.0.0.1:8100",
            "127.0.0.1.nip.io:8100",
            "",
            ":8100",
        ] {
            assert!(!g.host_allowed(bad, None), "{bad}");
        }
    }

    #[test]
    fn hosts_of_an_any_address_listener_and_allowed_names() {
        let g = guard("0.0.0.0:80", &["ops.example"], &["https://ui.example:8443"]);
        for ok in [
            "10.1.2.3",
            "10.1.2.3:80",
            "localhost",
            "ops.example",
            "ops.example:80",
            "ui.example:8443",
        ] {
            assert!(g.host_allowed(ok, None), "{ok}");
        }
        for bad in ["evil.example", "ops.example:81", "ui.example"] {
            assert!(!g.host_allowed(bad, None), "{bad}");
        }
    }

    #[test]
    fn the_served_address_wins_and_an_unknown_one_means_localhost_only() {
        let g = guard("127.0.0.1:8100", &[], &[]);
        let served = Some("127.0.0.1:9999".parse().expect("address"));
        assert!(g.host_allowed("localhost:9999", served));
        assert!(!g.host_allowed("localhost:8100", served));
        let unknown = BrowserGuard::new(true, None, &[], AllowedOrigins::None);
        assert!(unknown.host_allowed("localhost:1234", None));
        assert!(unknown.host_allowed("127.0.0.1", None));
        assert!(!unknown.host_allowed("10.0.0.1:1234", None));
        assert!(!unknown.host_allowed("evil.example", None));
    }

    #[test]
    fn allowed_hosts_parse() {
        assert_eq!(
            AllowedHost::parse("Ops.Example:9000").expect("host"),
            AllowedHost {
                host: "ops.example".into(),
                port: Some(9000)
            }
        );
        assert_eq!(AllowedHost::parse("ops.example").expect("host").port, None);
        for bad in ["", ":80", "a/b", "h:x", "[::1"] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_parse_strictly() {
        assert_eq!(
            Origin::parse("HTTP://UI.example")
                .expect("origin")
                .to_string(),
            "http://ui.example:80"
        );
        for bad in [
            "ui.example",
            "ftp://x",
            "http://",
            "http://x/path",
            "http://x:port",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
        assert!(AllowedOrigins::parse(&["*".into(), "http://x".into()]).is_err());
        assert_eq!(
            AllowedOrigins::parse(&["*".into()]).expect("any"),
            AllowedOrigins::Any
        );
    }

    #[test]
    fn same_origin_is_this_request_s_host() {
        assert!(same_origin("http://127.0.0.1:8100", "127.0.0.1:8100"));
        assert!(same_origin("http://localhost", "localhost:80"));
        assert!(!same_origin("https://127.0.0.1:8100", "127.0.0.1:8100"));
        assert!(!same_origin("http://evil.example", "127.0.0.1:8100"));
        assert!(!same_origin("null", "127.0.0.1:8100"));
    }
}
