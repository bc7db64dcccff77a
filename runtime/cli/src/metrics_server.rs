//! `--metrics-listen ADDR`: serves the process's Prometheus metrics
//! (`strand-metrics`) on `GET /metrics`, for `strand controller`,
//! `strand participant`, `strand rest` and `strand routes --watch`. A bare
//! port listens on loopback; anything else must be said.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::{Context, Result};
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Args;
use strand_metrics::Format;

/// The metrics flag of a long-running command.
#[derive(Debug, Clone, Args)]
pub struct MetricsArgs {
    /// Serve Prometheus metrics on `http://ADDR/metrics`: `PORT` (on
    /// loopback) or `IP:PORT` (`0.0.0.0:PORT` exposes them to the
    /// network).
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    pub metrics_listen: Option<SocketAddr>,
}

impl MetricsArgs {
    /// Starts serving if asked; the address served (with the real port
    /// when `:0` was given), also printed on stderr.
    ///
    /// # Errors
    /// When the address cannot be listened on.
    pub async fn start(&self) -> Result<Option<SocketAddr>> {
        let Some(listen) = self.metrics_listen else {
            return Ok(None);
        };
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("--metrics-listen: listening on {listen}"))?;
        let address = listener.local_addr()?;
        let app = Router::new()
            .route("/metrics", get(scrape))
            .fallback(|| async { (StatusCode::NOT_FOUND, "only /metrics is served here\n") });
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(error = %err, "the metrics endpoint stopped");
            }
        });
        eprintln!("metrics on http://{address}/metrics");
        Ok(Some(address))
    }
}

async fn scrape(headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let format = Format::negotiate(accept);
    let body = strand_metrics::global().encode(format);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        )],
        body,
    )
        .into_response()
}

/// `PORT` → loopback, `IP:PORT` as given, `localhost:PORT` → loopback.
fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = value.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    if let Some(port) = value.strip_prefix("localhost:") {
        return port
            .parse::<u16>()
            .map(|port| SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .map_err(|_| format!("expected PORT or IP:PORT, got {value:?}"));
    }
    value
        .parse::<SocketAddr>()
        .map_err(|_| format!("expected PORT or IP:PORT, got {value:?}"))
}

#[cfg(test)]
mod tests {
    use super::parse_listen;

    #[test]
    fn a_bare_port_listens_on_loopback() {
        assert_eq!(
            parse_listen("9464").map(|a| a.to_string()),
            Ok("127.0.0.1:9464".into())
        );
        assert_eq!(
            parse_listen("localhost:9464").map(|a| a.to_string()),
            Ok("127.0.0.1:9464".into())
        );
        assert_eq!(
            parse_listen("0.0.0.0:9464").map(|a| a.to_string()),
            Ok("0.0.0.0:9464".into())
        );
        assert_eq!(
            parse_listen("[::1]:9464").map(|a| a.to_string()),
            Ok("[::1]:9464".into())
        );
        assert!(parse_listen("metrics.example:80").is_err());
        assert!(parse_listen("70000").is_err());
    }
}
