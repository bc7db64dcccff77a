//! Strand's HTTP admin API, compatible with Apache Helix's REST v2: the
//! same `/admin/v2/…` paths, query parameters, ZNRecord bodies, JSON
//! response shapes and status codes, served by axum on top of
//! [`strand_admin`] (no ZooKeeper code lives here).
//!
//! * [`router`] builds the service from an [`Admin`] and a [`RestConfig`]
//!   (bearer token for mutating requests, request body limit); [`serve`]
//!   runs it on a listener until a shutdown future completes.
//! * [`routes`] lists every (method, path) served; `openapi.json` in this
//!   crate describes the same set, which a test checks.
//! * `/clusters/{cluster}/plugins` (Strand's own, not Helix's) lists,
//!   deploys (upload; body limit = the deployment cap) and rolls back
//!   plugins through `strand-plugin-store`.
//! * Failures answer `{"error": "…"}` with a 4xx naming the problem (see
//!   [`ApiError`]); admin operations are atomic, so a refused request
//!   changes nothing.
//!
//! Where Helix's REST has a known quirk Strand answers what a user
//! expects; each choice is listed in the README's "REST API" section.

mod auth;
mod error;
mod extract;
mod routes;
mod table;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use strand_admin::Admin;
use tokio::net::TcpListener;

pub use auth::BearerToken;
pub use error::{ApiError, ApiResult};
pub use routes::{AppState, PluginStores};
pub use table::{Route, Verb};

/// Every path starts with this (Helix REST v2's prefix).
pub const PREFIX: &str = "/admin/v2";

/// Default request body limit: 1 MiB, ZooKeeper's znode size limit (no
/// record body can be bigger and still be written).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The address served when none is given: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8100";

/// How the API is served.
#[derive(Debug, Clone)]
pub struct RestConfig {
    /// When set, every request but GET/HEAD/OPTIONS must carry
    /// `Authorization: Bearer <token>`.
    pub token: Option<BearerToken>,
    /// Largest request body accepted (413 above), except plugin uploads.
    pub max_body_bytes: usize,
    /// The deployment cap: largest plugin component accepted, and the body
    /// limit of plugin uploads.
    pub max_plugin_bytes: usize,
}

impl Default for RestConfig {
    fn default() -> Self {
        Self {
            token: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_plugin_bytes: strand_plugin_store::DEFAULT_MAX_SIZE,
        }
    }
}

/// The API as an axum [`Router`], ready to serve.
pub fn router(admin: Admin, config: &RestConfig) -> Router {
    let (api, _) = routes::table(config.max_plugin_bytes).into_parts();
    let mut api = api
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.max_body_bytes));
    if let Some(token) = &config.token {
        api = api.layer(axum::middleware::from_fn_with_state(
            token.clone(),
            auth::require_token,
        ));
    }
    api.with_state(AppState {
        admin,
        plugins: routes::PluginStores::default(),
        max_plugin_bytes: config.max_plugin_bytes,
    })
}

/// Every route served, in registration order.
pub fn routes() -> Vec<Route> {
    routes::table(strand_plugin_store::DEFAULT_MAX_SIZE)
        .into_parts()
        .1
}

/// Serves `router` on `listener` until `shutdown` completes; requests in
/// flight then finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not support {method}", uri.path()),
    )
}
