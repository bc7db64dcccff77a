//! What the plugin host records: calls by plugin, version and outcome
//! (traps, timeouts and memory-limit hits among them), and which version of
//! each plugin serves now.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::seconds_histogram;

/// How a plugin call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginCallOutcome {
    /// It returned (its `ok` or its `err` case: a rejection is the
    /// plugin's answer, counted by the caller's own metrics).
    Returned,
    /// It trapped (panic, exception, `unreachable`, …).
    Trap,
    /// It ran past its deadline.
    Timeout,
    /// It tried to grow its memory beyond the cap.
    MemoryLimit,
    /// No instance could be created for it.
    InstantiateFailed,
}

impl PluginCallOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Returned => "returned",
            Self::Trap => "trap",
            Self::Timeout => "timeout",
            Self::MemoryLimit => "memory_limit",
            Self::InstantiateFailed => "instantiate_failed",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    plugin: String,
    version: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    plugin: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    plugin: String,
    version: String,
}

/// The plugin host's families.
#[derive(Debug, Clone)]
pub struct PluginMetrics {
    calls: Family<CallLabels, Counter>,
    durations: Family<PluginLabels, Histogram, fn() -> Histogram>,
    active: Family<VersionLabels, Gauge>,
}

impl Default for PluginMetrics {
    fn default() -> Self {
        Self {
            calls: Family::default(),
            durations: Family::new_with_constructor(seconds_histogram),
            active: Family::default(),
        }
    }
}

impl PluginMetrics {
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "plugin_calls",
            "Plugin calls by plugin, version and outcome (returned, trap, timeout, memory_limit, instantiate_failed)",
            self.calls.clone(),
        );
        registry.register_with_unit(
            "plugin_call_duration",
            "Time a plugin call ran, by plugin",
            Unit::Seconds,
            self.durations.clone(),
        );
        registry.register(
            "plugin_active_version",
            "1 for the version of each plugin that serves calls now",
            self.active.clone(),
        );
    }

    /// A call of `version` of `plugin` ended after `elapsed`.
    pub fn call(&self, plugin: &str, version: &str, outcome: PluginCallOutcome, elapsed: Duration) {
        self.calls
            .get_or_create(&CallLabels {
                plugin: plugin.to_owned(),
                version: version.to_owned(),
                outcome: outcome.label(),
            })
            .inc();
        self.durations
            .get_or_create(&PluginLabels {
                plugin: plugin.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// `version` of `plugin` serves from now on, instead of `previous`.
    pub fn activated(&self, plugin: &str, version: &str, previous: Option<&str>) {
        if let Some(previous) = previous.filter(|p| *p != version) {
            self.active.remove(&VersionLabels {
                plugin: plugin.to_owned(),
                version: previous.to_owned(),
            });
        }
        self.active
            .get_or_create(&VersionLabels {
                plugin: plugin.to_owned(),
                version: version.to_owned(),
            })
            .set(1);
    }

    /// `version` of `plugin` no longer serves (the plugin was removed).
    pub fn deactivated(&self, plugin: &str, version: &str) {
        self.active.remove(&VersionLabels {
            plugin: plugin.to_owned(),
            version: version.to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::{Format, Metrics, PluginCallOutcome};

    #[test]
    fn a_swap_moves_the_active_version() {
        let metrics = Metrics::new();
        let p = &metrics.plugins;
        p.activated("MasterSlave", "1.0.0", None);
        p.call(
            "MasterSlave",
            "1.0.0",
            PluginCallOutcome::Trap,
            Duration::from_millis(1),
        );
        p.activated("MasterSlave", "1.1.0", Some("1.0.0"));
        let text = metrics.encode(Format::Text);
        assert!(text.contains(
            "strand_plugin_active_version{plugin=\"MasterSlave\",version=\"1.1.0\"} 1\n"
        ));
        assert!(!text.contains("version=\"1.0.0\"} 1\n"), "{text}");
        assert!(text.contains(
            "strand_plugin_calls_total{plugin=\"MasterSlave\",version=\"1.0.0\",outcome=\"trap\"} 1\n"
        ));
    }
}
