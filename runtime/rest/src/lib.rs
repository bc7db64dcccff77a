//! Strand's HTTP admin API, compatible with Apache Helix's REST v2: the
//! same `/admin/v2/…` paths, query parameters, ZNRecord bodies, JSON
//! response shapes and status codes, served by axum on top of
//! [`strand_admin`] (no ZooKeeper code lives here).
//!
//! * [`router`] builds the service from an [`Admin`] and a [`RestConfig`]
//!   (bearer token for mutating requests, request body limit, the address
//!   served and the hosts and web origins allowed); [`serve`] runs it on a
//!   listener until a shutdown future completes.
//! * Safe in a browser's reach: without a token, the `guard` module serves
//!   only requests addressed to the listen address and refuses mutating
//!   requests a web page could send (cross-origin, or with a content type
//!   sent without a CORS preflight).
//! * [`routes`] lists every (method, path) of the API served (the console's
//!   page and feed are outside `/admin/v2` and not listed); `openapi.json`
//!   in this crate describes the same set, which a test checks.
//! * `/clusters/{cluster}/plugins` (Strand's own, not Helix's) lists,
//!   deploys (upload; body limit = the deployment cap) and rolls back
//!   plugins through `strand-plugin-store`; uploads are validated by the
//!   [`RestConfig::plugin_inspector`] the caller supplies (the `strand`
//!   command: a plugin host), so this crate links no wasmtime.
//! * Every request, refused ones included, is counted and timed in the
//!   process's metrics (`strand-metrics`) by route template, method and
//!   status (the `metrics` module); the `strand` command serves them.
//! * `/` serves the web console and `/console/clusters/{cluster}/events`
//!   its live feed (the `console` module): per-topic documents over
//!   server-sent events, fed by watches, never by polling.
//! * Failures answer `{"error": "…"}` with a 4xx naming the problem (see
//!   [`ApiError`]); admin operations are atomic, so a refused request
//!   changes nothing.
//!
//! Where Helix's REST has a known quirk Strand answers what a user
//! expects; each choice is listed in the README's "REST API" section.

mod auth;
mod console;
mod error;
mod extract;
mod guard;
mod metrics;
mod routes;
mod table;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use strand_admin::Admin;
use strand_model::plugin::ComponentInspector;
use tokio::net::TcpListener;

pub use auth::BearerToken;
pub use error::{ApiError, ApiResult};
pub use guard::{AllowedHost, AllowedOrigins, Origin};
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
    /// `Authorization: Bearer <token>`. Without one, the browser guard
    /// checks `Host`, `Origin` and `Content-Type` (see the `guard` module).
    pub token: Option<BearerToken>,
    /// The address served, for a router run without [`serve`] ([`serve`]
    /// tells every request the address its listener is bound to). Without
    /// a token, only requests whose `Host` names that address are served;
    /// when it is unknown, only localhost names.
    pub listen: Option<SocketAddr>,
    /// More `Host` values to serve without a token (`--allow-host`).
    pub allowed_hosts: Vec<AllowedHost>,
    /// Web origins that may use the API from a browser (`--allow-origin`).
    pub allowed_origins: AllowedOrigins,
    /// Largest request body accepted (413 above), except plugin uploads.
    pub max_body_bytes: usize,
    /// The deployment cap: largest plugin component accepted, and the body
    /// limit of plugin uploads.
    pub max_plugin_bytes: usize,
    /// What validates uploaded plugin components (a plugin host, which the
    /// `strand` command supplies: this crate links no engine). Without one,
    /// uploads are refused (500) and everything else is served.
    pub plugin_inspector: Option<Arc<dyn ComponentInspector>>,
}

impl Default for RestConfig {
    fn default() -> Self {
        Self {
            token: None,
            listen: None,
            allowed_hosts: Vec::new(),
            allowed_origins: AllowedOrigins::None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_plugin_bytes: strand_plugin_store::DEFAULT_MAX_SIZE,
            plugin_inspector: None,
        }
    }
}

/// The API as an axum [`Router`], ready to serve.
pub fn router(admin: Admin, config: &RestConfig) -> Router {
    let (api, _) = routes::table(config.max_plugin_bytes).into_parts();
    let mut api = api
        .merge(console::router())
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.max_body_bytes));
    if let Some(token) = &config.token {
        api = api.layer(axum::middleware::from_fn_with_state(
            token.clone(),
            auth::require_token,
        ));
    }
    // Outermost: a refused browser request is answered before anything else.
    let guard = guard::BrowserGuard::new(
        config.token.is_none(),
        config.listen,
        &config.allowed_hosts,
        config.allowed_origins.clone(),
    );
    api = api.layer(axum::middleware::from_fn_with_state(
        Arc::new(guard),
        guard::check,
    ));
    // Around everything: refused requests are counted too.
    api = api.layer(axum::middleware::from_fn(metrics::record));
    api.with_state(AppState {
        admin,
        plugins: routes::PluginStores::new(config.plugin_inspector.clone()),
        max_plugin_bytes: config.max_plugin_bytes,
        console: console::Feeds::default(),
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
    // The browser guard checks `Host` against the address really served.
    let router = router.layer(axum::Extension(guard::ServedAddr(listener.local_addr()?)));
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
