//! `wasi:http/outgoing-handler` for plugins: every request is checked
//! against the call's [`NetPolicy`] (a denied one fails with
//! `ErrorCode::HttpRequestDenied` once the guest has written its body, and
//! a warning naming the plugin, the address and the grant it lacks) and
//! then sent by a plain HTTP/1.1
//! client, over a connection that lasts at most until the call's deadline.
//! There is no TLS: grants name `http://` origins (a node's own
//! application), so `https://` requests are denied.

use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use http::uri::Scheme;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::NetPolicy;

/// The future `send_request` hands back, as wasmtime-wasi-http wants it.
type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

/// The per-store hooks: who the plugin is, its current policy, and the
/// running call's deadline.
pub(crate) struct HttpHooks {
    pub(crate) plugin: Arc<str>,
    pub(crate) policy: Arc<ArcSwap<NetPolicy>>,
    pub(crate) deadline: Option<Instant>,
}

impl WasiHttpHooks for HttpHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        let checked = check(&self.policy.load(), &request);
        let deadline = self.deadline;
        match checked {
            Err(reason) => {
                tracing::warn!(
                    plugin = &*self.plugin,
                    address = %request.uri(),
                    "plugin {} denied HTTP {} {}: {reason}",
                    self.plugin,
                    request.method(),
                    request.uri()
                );
                // The guest's body is taken (and discarded) before the
                // denial, so its writes succeed and it learns why from the
                // response: componentize-js's `fetch` aborts the whole
                // component when a body write fails first.
                let body = request.into_body();
                Box::new(async move {
                    let _ = bounded(deadline, Error::HttpRequestDenied, drain(body)).await;
                    Err(Error::HttpRequestDenied)
                })
            }
            Ok(authority) => Box::new(send(request, authority, deadline)),
        }
    }
}

/// Reads `body` to its end, keeping nothing.
async fn drain(mut body: WasiBody) -> Result<(), Error> {
    use http_body_util::BodyExt;
    while let Some(frame) = body.frame().await {
        frame?;
    }
    Ok(())
}

/// The request's `host:port` if the policy allows it, else why not.
fn check(policy: &NetPolicy, request: &http::Request<WasiBody>) -> Result<String, String> {
    let uri = request.uri();
    if uri.scheme() != Some(&Scheme::HTTP) {
        return Err(format!(
            "only http:// requests can be granted, not {}",
            uri.scheme_str().unwrap_or("a request without a scheme")
        ));
    }
    let Some(authority) = uri.authority() else {
        return Err("the request names no host".into());
    };
    let port = authority.port_u16().unwrap_or(80);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    policy.check_http(authority.host(), port, path)?;
    Ok(format!("{}:{port}", authority.host()))
}

/// Waits for `f`, at most until `deadline`; `late` is the error then —
/// also when `f` failed at the deadline itself (the connection task ends
/// at the same instant, and a request whose connection it closed fails
/// with a protocol error that is really the timeout).
async fn bounded<T>(
    deadline: Option<Instant>,
    late: Error,
    f: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match deadline {
        Some(at) => match tokio::time::timeout_at(at.into(), f).await {
            Ok(Err(_)) if Instant::now() >= at => Err(late),
            Ok(result) => result,
            Err(_) => Err(late),
        },
        None => f.await,
    }
}

/// Sends one request over a fresh HTTP/1.1 connection to `authority`.
async fn send(
    mut request: http::Request<WasiBody>,
    authority: String,
    deadline: Option<Instant>,
) -> Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), Error>> + Send>,
    ),
    Error,
> {
    let stream = bounded(deadline, Error::ConnectionTimeout, async {
        tokio::net::TcpStream::connect(&authority)
            .await
            .map_err(Error::Connect)
    })
    .await?;
    let (mut sender, connection) = bounded(deadline, Error::ConnectionTimeout, async {
        hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(Error::from)
    })
    .await?;
    // The connection lives at most until the call's deadline.
    let connection = async move {
        bounded(deadline, Error::ConnectionReadTimeout, async {
            connection.await.map_err(Error::from)
        })
        .await
    };
    let connection = wasmtime_wasi::runtime::spawn(connection);
    // On the wire, the request line carries the path only.
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    *request.uri_mut() = path.parse().map_err(|_| Error::HttpRequestUriInvalid)?;
    let response = bounded(deadline, Error::ConnectionReadTimeout, async {
        sender.send_request(request).await.map_err(Error::from)
    })
    .await?;
    use http_body_util::BodyExt;
    let response = response.map(|body| body.map_err(Error::from).boxed_unsync());
    let io: Box<dyn Future<Output = Result<(), Error>> + Send> = Box::new(connection);
    Ok((response, io))
}
