//! What routing tables (spectators) record, by cluster: the generation of
//! the snapshot serving now, and the lag from a view's write in ZooKeeper
//! to the snapshot that shows it.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::seconds_histogram;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClusterLabels {
    cluster: String,
}

/// The routing table's families.
#[derive(Debug, Clone)]
pub struct RoutingMetrics {
    generation: Family<ClusterLabels, Gauge>,
    lag: Family<ClusterLabels, Histogram, fn() -> Histogram>,
}

impl Default for RoutingMetrics {
    fn default() -> Self {
        Self {
            generation: Family::default(),
            lag: Family::new_with_constructor(seconds_histogram),
        }
    }
}

impl RoutingMetrics {
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "routing_table_generation",
            "Generation of the routing snapshot serving now (bumped on every rebuild)",
            self.generation.clone(),
        );
        registry.register_with_unit(
            "routing_view_lag",
            "Time from a view's write in ZooKeeper (its mtime) to the routing snapshot that shows it",
            Unit::Seconds,
            self.lag.clone(),
        );
    }

    /// A snapshot of `generation` was published, showing views written
    /// `lags` ago.
    pub fn published(&self, cluster: &str, generation: u64, lags: &[Duration]) {
        let labels = ClusterLabels {
            cluster: cluster.to_owned(),
        };
        self.generation
            .get_or_create(&labels)
            .set(i64::try_from(generation).unwrap_or(i64::MAX));
        if lags.is_empty() {
            return;
        }
        let lag = self.lag.get_or_create(&labels);
        for l in lags {
            lag.observe(l.as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::{Format, Metrics};

    #[test]
    fn a_publish_sets_the_generation_and_observes_the_lag() {
        let metrics = Metrics::new();
        metrics.routing.published(
            "C",
            7,
            &[Duration::from_millis(2), Duration::from_millis(900)],
        );
        let text = metrics.encode(Format::Text);
        assert!(text.contains("strand_routing_table_generation{cluster=\"C\"} 7\n"));
        assert!(text.contains("strand_routing_view_lag_seconds_count{cluster=\"C\"} 2\n"));
    }
}
