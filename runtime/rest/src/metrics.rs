//! Every request in the process's metrics (`strand_http_requests_total`,
//! `strand_http_request_duration_seconds`): by the route's template, never
//! the path itself (which carries cluster and resource names, and whatever
//! a client sends), so the label set stays bounded.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The route label of a request no route matched.
pub(crate) const UNMATCHED: &str = "unmatched";

/// Middleware: times the request and counts its answer.
pub(crate) async fn record(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let response = next.run(request).await;
    strand_metrics::global().http.request(
        &route,
        method.as_str(),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
