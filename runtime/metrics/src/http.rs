//! What the HTTP API records: requests by route (the route's template,
//! never the path with its names), method and status, with latency.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::seconds_histogram;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: &'static str,
}

/// The HTTP API's families.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            latency: Family::new_with_constructor(seconds_histogram),
        }
    }
}

/// The method label of a request: the standard methods by name, anything
/// else `other` (methods are client input).
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("other")
}

impl HttpMetrics {
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "http_requests",
            "HTTP requests served, by route template, method and status",
            self.requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request, by route template and method",
            Unit::Seconds,
            self.latency.clone(),
        );
    }

    /// A request to `route` (a template such as
    /// `/admin/v2/clusters/{cluster_id}`, or `unmatched`) was answered.
    pub fn request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method,
            })
            .observe(elapsed.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::{Format, Metrics};

    #[test]
    fn requests_are_counted_by_template_and_odd_methods_fold() {
        let metrics = Metrics::new();
        let http = &metrics.http;
        http.request("/admin/v2/clusters", "GET", 200, Duration::from_millis(1));
        http.request("unmatched", "BREW", 404, Duration::from_millis(1));
        let text = metrics.encode(Format::Text);
        assert!(text.contains(
            "strand_http_requests_total{route=\"/admin/v2/clusters\",method=\"GET\",status=\"200\"} 1\n"
        ));
        assert!(text.contains(
            "strand_http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"} 1\n"
        ));
    }
}
