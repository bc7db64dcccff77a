//! What participants record: transitions (by state model, from, to and
//! outcome, with their durations), messages received by type and
//! discarded by reason, and transitions running now.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::seconds_histogram;

/// How a transition ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionOutcome {
    /// The plugin reached the target state.
    Ok,
    /// The plugin failed (rejected, trapped, timed out, …): the partition
    /// went to ERROR.
    Error,
}

impl TransitionOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransitionLabels {
    state_model: String,
    from: String,
    to: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransitionKindLabels {
    state_model: String,
    from: String,
    to: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeLabels {
    r#type: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// The participant's families.
#[derive(Debug, Clone)]
pub struct ParticipantMetrics {
    transitions: Family<TransitionLabels, Counter>,
    durations: Family<TransitionKindLabels, Histogram, fn() -> Histogram>,
    running: Gauge,
    received: Family<TypeLabels, Counter>,
    discarded: Family<ReasonLabels, Counter>,
}

impl Default for ParticipantMetrics {
    fn default() -> Self {
        Self {
            transitions: Family::default(),
            durations: Family::new_with_constructor(seconds_histogram),
            running: Gauge::default(),
            received: Family::default(),
            discarded: Family::default(),
        }
    }
}

impl ParticipantMetrics {
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "transitions",
            "State transitions run by participants, by state model, from, to and outcome",
            self.transitions.clone(),
        );
        registry.register_with_unit(
            "transition_duration",
            "Time from a transition's plugin call to its current state recorded",
            Unit::Seconds,
            self.durations.clone(),
        );
        registry.register(
            "transitions_running",
            "Transitions admitted and not yet recorded",
            self.running.clone(),
        );
        registry.register(
            "messages_received",
            "Messages read by participants, by MSG_TYPE (unknown types as \"other\")",
            self.received.clone(),
        );
        registry.register(
            "messages_discarded",
            "Messages deleted without running, by reason",
            self.discarded.clone(),
        );
    }

    /// `n` transitions were admitted (got a slot).
    pub fn transitions_started(&self, n: usize) {
        self.running.inc_by(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// An admitted transition's task ended (recorded, or given up when the
    /// session ended).
    pub fn transition_ended(&self) {
        self.running.dec();
    }

    /// A transition ran its plugin and was recorded, `elapsed` after the
    /// plugin call began.
    pub fn transition_done(
        &self,
        state_model: &str,
        from: &str,
        to: &str,
        outcome: TransitionOutcome,
        elapsed: Duration,
    ) {
        self.transitions
            .get_or_create(&TransitionLabels {
                state_model: state_model.to_owned(),
                from: from.to_owned(),
                to: to.to_owned(),
                outcome: outcome.label(),
            })
            .inc();
        self.durations
            .get_or_create(&TransitionKindLabels {
                state_model: state_model.to_owned(),
                from: from.to_owned(),
                to: to.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// A message was read; `message_type` is a Helix `MSG_TYPE` name, or
    /// `"other"`/`"none"`.
    pub fn message_received(&self, message_type: &'static str) {
        self.received
            .get_or_create(&TypeLabels {
                r#type: message_type,
            })
            .inc();
    }

    /// A message was deleted without running.
    pub fn message_discarded(&self, reason: &'static str) {
        self.discarded.get_or_create(&ReasonLabels { reason }).inc();
    }
}

#[cfg(test)]
mod tests {
    use crate::{Format, Metrics, TransitionOutcome};
    use std::time::Duration;

    #[test]
    fn transitions_are_counted_and_timed_by_kind() {
        let metrics = Metrics::new();
        let p = &metrics.participant;
        p.transitions_started(2);
        p.transition_done(
            "MasterSlave",
            "OFFLINE",
            "SLAVE",
            TransitionOutcome::Ok,
            Duration::from_millis(3),
        );
        p.transition_ended();
        p.transition_ended();
        p.message_received("STATE_TRANSITION");
        p.message_discarded("stale");
        let text = metrics.encode(Format::Text);
        assert!(text.contains(
            "strand_transitions_total{state_model=\"MasterSlave\",from=\"OFFLINE\",to=\"SLAVE\",outcome=\"ok\"} 1\n"
        ));
        assert!(text.contains(
            "strand_transition_duration_seconds_count{state_model=\"MasterSlave\",from=\"OFFLINE\",to=\"SLAVE\"} 1\n"
        ));
        assert!(text.contains("strand_transitions_running 0\n"));
        assert!(text.contains("strand_messages_received_total{type=\"STATE_TRANSITION\"} 1\n"));
        assert!(text.contains("strand_messages_discarded_total{reason=\"stale\"} 1\n"));
    }
}
