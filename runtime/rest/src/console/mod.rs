//! The web console: a page at `/` (assets compiled into the binary, no
//! CDN, no build step) and its live feed,
//! `GET /console/clusters/{cluster}/events`, a server-sent-events stream
//! of topic documents (see [`feed`]).
//!
//! The stream first sends every topic (`topic` events), then `ready`, then
//! each change (`topic` events; a `null` value removes the topic). A page
//! that falls too far behind gets `reset` and a fresh snapshot. Operator
//! actions go through the ordinary `/admin/v2` API from the page, with the
//! operator's token, and are refused there as for any client.
//!
//! The page and the feed are served behind the same browser guard as the
//! API (the `Host` check defeats DNS rebinding); the page's Content
//! Security Policy allows only its own scripts, styles and connections.

pub mod feed;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::Stream;
use tokio::sync::broadcast;

use crate::error::{ApiError, ApiResult};
use crate::routes::AppState;

pub use feed::Feeds;
use feed::{ClusterFeed, Snapshot, TopicUpdate};

/// The page's Content Security Policy: its own assets and connections only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// The console's routes (merged into the API's router, behind its guard).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/console/app.js", get(script))
        .route("/console/app.css", get(style))
        .route("/console/clusters/{cluster}/events", get(events))
}

async fn index() -> Response {
    asset(
        "text/html; charset=utf-8",
        include_str!("assets/index.html"),
    )
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    )
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", include_str!("assets/app.css"))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The live feed of one cluster.
async fn events(
    State(state): State<AppState>,
    Path(cluster): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    strand_admin::names::validate("cluster", &cluster)?;
    let feed = state
        .console
        .subscribe(state.admin.zk(), &cluster)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("cluster {cluster} does not exist")))?;
    let (snapshot, updates) = feed.snapshot_and_subscribe();
    let stream = FeedStream {
        feed,
        updates,
        queue: snapshot_events(snapshot, false),
    };
    Ok(Sse::new(futures::stream::unfold(stream, FeedStream::next))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// One page's position in a feed: events queued to send, then updates.
struct FeedStream {
    feed: Arc<ClusterFeed>,
    updates: broadcast::Receiver<TopicUpdate>,
    queue: VecDeque<Event>,
}

impl FeedStream {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some((Ok(event), self));
            }
            match self.updates.recv().await {
                Ok(update) => self
                    .queue
                    .push_back(topic_event(&update.topic, update.value.as_deref())),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let (snapshot, updates) = self.feed.snapshot_and_subscribe();
                    self.updates = updates;
                    self.queue = snapshot_events(snapshot, true);
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Every topic of a snapshot, then `ready` (after `reset` when resent).
fn snapshot_events(snapshot: Snapshot, reset: bool) -> VecDeque<Event> {
    let mut events = VecDeque::with_capacity(snapshot.len() + 2);
    if reset {
        events.push_back(Event::default().event("reset").data("{}"));
    }
    for (topic, document) in &snapshot {
        events.push_back(topic_event(topic, Some(document)));
    }
    events.push_back(Event::default().event("ready").data("{}"));
    events
}

/// `{"topic": …, "value": …}`; documents are compact JSON (one line).
fn topic_event(topic: &str, document: Option<&str>) -> Event {
    let topic = serde_json::Value::String(topic.to_owned());
    Event::default().event("topic").data(format!(
        r#"{{"topic":{topic},"value":{}}}"#,
        document.unwrap_or("null")
    ))
}
