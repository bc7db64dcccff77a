//! What controllers record, by cluster: leadership, pipeline runs (count,
//! compute and total time), the writes they make (messages sent and
//! deleted, views written and removed), and per resource the convergence
//! gap — messages pending and partitions not in their best possible state.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::seconds_histogram;

/// How a pipeline run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every write landed.
    Ok,
    /// A write failed; the run is retried.
    Failed,
}

impl RunOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
        }
    }
}

/// One resource's distance from converged, as of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceGap {
    /// The resource.
    pub resource: String,
    /// Messages sent for it and not done yet.
    pub pending_messages: usize,
    /// Partitions with a replica not in its best possible state.
    pub not_best_possible: usize,
    /// No transition is sent for it (a record does not parse or makes no
    /// sense).
    pub held_back: bool,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClusterLabels {
    cluster: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    cluster: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResourceLabels {
    cluster: String,
    resource: String,
}

/// The controller's families.
#[derive(Debug, Clone)]
pub struct ControllerMetrics {
    leader: Family<ClusterLabels, Gauge>,
    runs: Family<RunLabels, Counter>,
    compute: Family<ClusterLabels, Histogram, fn() -> Histogram>,
    total: Family<ClusterLabels, Histogram, fn() -> Histogram>,
    sent: Family<ClusterLabels, Counter>,
    deleted: Family<ClusterLabels, Counter>,
    views_written: Family<ClusterLabels, Counter>,
    views_removed: Family<ClusterLabels, Counter>,
    pending: Family<ResourceLabels, Gauge>,
    not_best: Family<ResourceLabels, Gauge>,
    held_back: Family<ResourceLabels, Gauge>,
    /// The resources each cluster's gap gauges have, to drop those of
    /// resources that are gone.
    reported: Arc<Mutex<HashMap<String, BTreeSet<String>>>>,
}

impl Default for ControllerMetrics {
    fn default() -> Self {
        Self {
            leader: Family::default(),
            runs: Family::default(),
            compute: Family::new_with_constructor(seconds_histogram),
            total: Family::new_with_constructor(seconds_histogram),
            sent: Family::default(),
            deleted: Family::default(),
            views_written: Family::default(),
            views_removed: Family::default(),
            pending: Family::default(),
            not_best: Family::default(),
            held_back: Family::default(),
            reported: Arc::default(),
        }
    }
}

/// One run's writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunWrites {
    /// Messages created.
    pub sent: usize,
    /// Messages deleted.
    pub deleted: usize,
    /// Views written.
    pub views_written: usize,
    /// Views removed.
    pub views_removed: usize,
}

impl ControllerMetrics {
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "controller_leader",
            "1 while this process's controller leads the cluster",
            self.leader.clone(),
        );
        registry.register(
            "controller_pipeline_runs",
            "Pipeline runs by outcome",
            self.runs.clone(),
        );
        registry.register_with_unit(
            "controller_pipeline_compute",
            "Time a pipeline run spent deciding (no I/O)",
            Unit::Seconds,
            self.compute.clone(),
        );
        registry.register_with_unit(
            "controller_pipeline_duration",
            "Time of a whole pipeline run, writes included",
            Unit::Seconds,
            self.total.clone(),
        );
        registry.register(
            "controller_messages_sent",
            "State-transition messages created",
            self.sent.clone(),
        );
        registry.register(
            "controller_messages_deleted",
            "Messages deleted as obsolete or stale",
            self.deleted.clone(),
        );
        registry.register(
            "controller_views_written",
            "External and customized views written",
            self.views_written.clone(),
        );
        registry.register(
            "controller_views_removed",
            "External and customized views removed",
            self.views_removed.clone(),
        );
        registry.register(
            "resource_pending_messages",
            "Messages sent for the resource and not done, as of the leader's last run",
            self.pending.clone(),
        );
        registry.register(
            "resource_partitions_not_best_possible",
            "Partitions of the resource with a replica not in its best possible state, as of the leader's last run",
            self.not_best.clone(),
        );
        registry.register(
            "resource_held_back",
            "1 while no transition is sent for the resource because a record does not parse or makes no sense",
            self.held_back.clone(),
        );
    }

    /// Whether this process leads `cluster`; on losing the lead its
    /// resources' gauges go (another controller reports them).
    pub fn leading(&self, cluster: &str, leading: bool) {
        self.leader
            .get_or_create(&cluster_labels(cluster))
            .set(i64::from(leading));
        if !leading {
            self.gaps(cluster, &[]);
        }
    }

    /// A pipeline run of `cluster` ended.
    pub fn run(
        &self,
        cluster: &str,
        outcome: RunOutcome,
        compute: Duration,
        total: Duration,
        writes: RunWrites,
    ) {
        let labels = cluster_labels(cluster);
        self.runs
            .get_or_create(&RunLabels {
                cluster: cluster.to_owned(),
                outcome: outcome.label(),
            })
            .inc();
        self.compute
            .get_or_create(&labels)
            .observe(compute.as_secs_f64());
        self.total
            .get_or_create(&labels)
            .observe(total.as_secs_f64());
        let add = |family: &Family<ClusterLabels, Counter>, n: usize| {
            if n > 0 {
                family.get_or_create(&labels).inc_by(n as u64);
            }
        };
        add(&self.sent, writes.sent);
        add(&self.deleted, writes.deleted);
        add(&self.views_written, writes.views_written);
        add(&self.views_removed, writes.views_removed);
    }

    /// The convergence gap of every resource of `cluster` (resources not
    /// listed lose their gauges).
    pub fn gaps(&self, cluster: &str, gaps: &[ResourceGap]) {
        let mut reported = self.reported.lock().unwrap_or_else(PoisonError::into_inner);
        let known = reported.entry(cluster.to_owned()).or_default();
        let now: BTreeSet<String> = gaps.iter().map(|g| g.resource.clone()).collect();
        for gone in known.difference(&now) {
            let labels = resource_labels(cluster, gone);
            self.pending.remove(&labels);
            self.not_best.remove(&labels);
            self.held_back.remove(&labels);
        }
        for gap in gaps {
            let labels = resource_labels(cluster, &gap.resource);
            self.pending
                .get_or_create(&labels)
                .set(saturating_i64(gap.pending_messages));
            self.not_best
                .get_or_create(&labels)
                .set(saturating_i64(gap.not_best_possible));
            self.held_back
                .get_or_create(&labels)
                .set(i64::from(gap.held_back));
        }
        *known = now;
    }
}

fn cluster_labels(cluster: &str) -> ClusterLabels {
    ClusterLabels {
        cluster: cluster.to_owned(),
    }
}

fn resource_labels(cluster: &str, resource: &str) -> ResourceLabels {
    ResourceLabels {
        cluster: cluster.to_owned(),
        resource: resource.to_owned(),
    }
}

fn saturating_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::RunWrites;
    use crate::{Format, Metrics, ResourceGap, RunOutcome};

    fn gap(resource: &str, pending: usize) -> ResourceGap {
        ResourceGap {
            resource: resource.into(),
            pending_messages: pending,
            not_best_possible: pending,
            held_back: false,
        }
    }

    #[test]
    fn gaps_follow_the_resources_and_leadership() {
        let metrics = Metrics::new();
        let c = &metrics.controller;
        c.leading("C", true);
        c.run(
            "C",
            RunOutcome::Ok,
            Duration::from_micros(300),
            Duration::from_millis(4),
            RunWrites {
                sent: 3,
                ..RunWrites::default()
            },
        );
        c.gaps("C", &[gap("db", 3), gap("cache", 0)]);
        let text = metrics.encode(Format::Text);
        assert!(text.contains("strand_controller_leader{cluster=\"C\"} 1\n"));
        assert!(text.contains("strand_controller_messages_sent_total{cluster=\"C\"} 3\n"));
        assert!(
            text.contains(
                "strand_controller_pipeline_runs_total{cluster=\"C\",outcome=\"ok\"} 1\n"
            )
        );
        assert!(
            text.contains("strand_resource_pending_messages{cluster=\"C\",resource=\"db\"} 3\n")
        );
        c.gaps("C", &[gap("db", 0)]);
        let text = metrics.encode(Format::Text);
        assert!(!text.contains("resource=\"cache\""), "{text}");
        c.leading("C", false);
        let text = metrics.encode(Format::Text);
        assert!(text.contains("strand_controller_leader{cluster=\"C\"} 0\n"));
        assert!(!text.contains("resource=\"db\""), "{text}");
    }
}
