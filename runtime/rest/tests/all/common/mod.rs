//! Test harness: a private ZooKeeper, the API served on a free loopback
//! port by the real router, and a real HTTP client.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use strand_admin::Admin;
use strand_devcluster::zookeeper::LocalZk;
use strand_plugin_host::{HostConfig, HostInspector};
use strand_rest::RestConfig;
use strand_zk::Zk;

/// A running API and its ZooKeeper.
pub struct Api {
    pub server: LocalZk,
    pub admin: Admin,
    pub base: String,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A response: status, raw text and (if it parses) JSON.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub text: String,
    pub json: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// The `error` message of an error reply.
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or_default()
    }

    /// Asserts the status, showing the body on failure.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts a JSON error reply with this status whose message mentions `needle`.
    #[track_caller]
    pub fn expect_error(self, status: u16, needle: &str) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert!(
            self.error().contains(needle),
            "error {:?} does not mention {needle:?}",
            self.text
        );
        self
    }
}

impl Api {
    /// ZooKeeper plus the API with the default config.
    pub async fn start() -> Self {
        Self::start_with(RestConfig::default()).await
    }

    /// ZooKeeper plus the API with `config`.
    /// Uploads are validated by a plugin host, as `strand rest` does.
    pub async fn start_with(mut config: RestConfig) -> Self {
        config
            .plugin_inspector
            .get_or_insert_with(|| Arc::new(HostInspector::lazy(HostConfig::default())));
        let server = LocalZk::start().expect("start ZooKeeper");
        let admin = Admin::connect(&server.connect_string())
            .await
            .expect("connect admin");
        let api_admin = Admin::connect(&server.connect_string())
            .await
            .expect("connect API session");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!(
            "http://{}{}",
            listener.local_addr().expect("address"),
            strand_rest::PREFIX
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = strand_rest::router(api_admin, &config);
        tokio::spawn(async move {
            strand_rest::serve(listener, router, async move {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
        });
        Self {
            server,
            admin,
            base,
            client: reqwest::Client::new(),
            stop: Some(stop),
        }
    }

    /// A request to `path` (relative to `/admin/v2`).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// Sends a request and reads the reply.
    pub async fn send(&self, request: RequestBuilder) -> Reply {
        let response = request.send().await.expect("HTTP request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            text,
            json,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(self.request(Method::DELETE, path)).await
    }

    /// A PUT; a body is sent as `application/json`, as tools do.
    pub async fn put(&self, path: &str, body: &str) -> Reply {
        self.send(json_body(self.request(Method::PUT, path), body))
            .await
    }

    /// A POST; a body is sent as `application/json`, as tools do.
    pub async fn post(&self, path: &str, body: &str) -> Reply {
        self.send(json_body(self.request(Method::POST, path), body))
            .await
    }

    /// The address the API listens on (`127.0.0.1:port`).
    pub fn address(&self) -> String {
        self.base
            .trim_start_matches("http://")
            .trim_end_matches(strand_rest::PREFIX)
            .to_owned()
    }

    /// Sends `method target` over a fresh TCP connection exactly as given —
    /// no URL normalisation (`..` stays `..`), the headers as listed (a
    /// `Host` of this server's address unless `headers` has one) — and
    /// reads the reply. `target` is relative to `/admin/v2`.
    pub async fn raw(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = self.address();
        let mut stream = tokio::net::TcpStream::connect(&address)
            .await
            .expect("connect to the API");
        let mut request = format!("{method} {}{target} HTTP/1.1\r\n", strand_rest::PREFIX);
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("host"))
        {
            request.push_str(&format!("Host: {address}\r\n"));
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() {
            request.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        request.push_str("Connection: close\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("write request");
        stream.write_all(body).await.expect("write body");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read reply");
        parse_raw_reply(&raw)
    }

    /// Every znode with its data and version (to prove nothing changed).
    pub async fn snapshot(&self) -> BTreeMap<String, (Vec<u8>, i32)> {
        snapshot(self.admin.zk()).await
    }
}

/// Sets a JSON body (nothing for an empty one).
fn json_body(request: RequestBuilder, body: &str) -> RequestBuilder {
    if body.is_empty() {
        request
    } else {
        request
            .header("Content-Type", "application/json")
            .body(body.to_owned())
    }
}

/// An HTTP/1.1 reply read to the end of a `Connection: close` stream
/// (bodies here are small and not chunked by the server's JSON replies;
/// chunked ones are joined).
fn parse_raw_reply(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let mut headers = reqwest::header::HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) = (
                reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()),
                reqwest::header::HeaderValue::from_str(value.trim()),
            )
        {
            headers.append(name, value);
        }
    }
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    Reply {
        status,
        text: body,
        json,
        headers,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

impl Drop for Api {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn snapshot(zk: &Zk) -> BTreeMap<String, (Vec<u8>, i32)> {
    let mut out = BTreeMap::new();
    let mut stack = vec!["/".to_owned()];
    while let Some(path) = stack.pop() {
        if path.starts_with("/zookeeper") {
            continue;
        }
        if let Some((data, stat)) = zk.get(&path).await.expect("read") {
            out.insert(path.clone(), (data, stat.version));
        }
        for child in zk.children(&path).await.expect("list") {
            stack.push(strand_zk::join(&path, &child));
        }
    }
    out
}

/// The names in a JSON array field.
pub fn names(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
