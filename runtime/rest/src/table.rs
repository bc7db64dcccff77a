//! [`RouteTable`]: registers handlers on an axum router and remembers each
//! (method, path), so the served routes can be listed — the OpenAPI test
//! compares that list with `openapi.json`.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

/// The HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    /// GET.
    Get,
    /// PUT.
    Put,
    /// POST.
    Post,
    /// DELETE.
    Delete,
}

impl Verb {
    /// The HTTP method.
    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Put => Method::PUT,
            Verb::Post => Method::POST,
            Verb::Delete => Method::DELETE,
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Put => MethodFilter::PUT,
            Verb::Post => MethodFilter::POST,
            Verb::Delete => MethodFilter::DELETE,
        }
    }
}

/// One served route: method and full path (axum's `{name}` syntax, the
/// same as OpenAPI's).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Route {
    /// Method.
    pub verb: Verb,
    /// Path, e.g. `/admin/v2/clusters/{cluster}`.
    pub path: String,
}

/// A router under construction and the routes put in it.
pub struct RouteTable<S> {
    prefix: &'static str,
    router: Router<S>,
    routes: Vec<Route>,
}

impl<S: Clone + Send + Sync + 'static> RouteTable<S> {
    /// An empty table whose paths all start with `prefix`.
    pub fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            router: Router::new(),
            routes: Vec::new(),
        }
    }

    /// Serves `handler` for `verb` on `prefix + path`.
    pub fn add<H, T>(mut self, verb: Verb, path: &str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let full = format!("{}{path}", self.prefix);
        self.router = self.router.route(&full, on(verb.filter(), handler));
        self.routes.push(Route { verb, path: full });
        self
    }

    /// Serves a prepared method router (with its own layers) for `verb`
    /// on `prefix + path`; it must route exactly `verb`.
    pub fn add_routed(mut self, verb: Verb, path: &str, method_router: MethodRouter<S>) -> Self {
        let full = format!("{}{path}", self.prefix);
        self.router = self.router.route(&full, method_router);
        self.routes.push(Route { verb, path: full });
        self
    }

    /// The router and the route list.
    pub fn into_parts(self) -> (Router<S>, Vec<Route>) {
        (self.router, self.routes)
    }
}
