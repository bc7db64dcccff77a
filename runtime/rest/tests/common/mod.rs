//! Test harness: a private ZooKeeper, the API served on a free loopback
//! port by the real router, and a real HTTP client.

#![allow(dead_code)]

use std::collections::BTreeMap;

use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use strand_admin::Admin;
use strand_rest::RestConfig;
use strand_testkit::zookeeper::LocalZk;
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
    pub async fn start_with(config: RestConfig) -> Self {
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

    pub async fn put(&self, path: &str, body: &str) -> Reply {
        self.send(self.request(Method::PUT, path).body(body.to_owned()))
            .await
    }

    pub async fn post(&self, path: &str, body: &str) -> Reply {
        self.send(self.request(Method::POST, path).body(body.to_owned()))
            .await
    }

    /// Every znode with its data and version (to prove nothing changed).
    pub async fn snapshot(&self) -> BTreeMap<String, (Vec<u8>, i32)> {
        snapshot(self.admin.zk()).await
    }
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
