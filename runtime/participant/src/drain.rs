//! A participant's own drain before it stops ([`Participant::drain`]):
//! it sets Helix's `EVACUATE` instance operation on its InstanceConfig
//! (source `AUTOMATION`, reason [`SHUTDOWN_DRAIN_REASON`], so an
//! operator's own drain — source `USER` — is never touched), keeps serving
//! the handoff transitions the controller sends, and returns once it holds
//! no top state, when the deadline passes, or when the caller gives up
//! (a second SIGTERM).
//!
//! The operation is cleared again after the participant has left (its
//! LiveInstance is gone, so no top state comes back to it), and before a
//! new session joins — so one left behind by a crash is found and cleared
//! too. While it is offline the instance is then an ordinary offline
//! instance: delayed rebalance keeps its replicas placed.

use std::future::Future;
use std::time::Duration;

use strand_admin::{Admin, DrainGoal, DrainStatus, DrainWatch};
use strand_model::{InstanceConfig, InstanceOperationKind, InstanceOperationSource, PropertyPaths};
use strand_zk::{Accessor, Backoff, Update, Zk};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::config::ParticipantConfig;
use crate::participant::Participant;

/// The `REASON` of the operation a stopping participant sets on itself.
pub const SHUTDOWN_DRAIN_REASON: &str = "strand participant stopping: handing over top states";

/// How a drain ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrainOutcome {
    /// Every top state was handed over.
    Drained {
        /// How long it took.
        took: Duration,
    },
    /// The deadline passed first; what was left, as one line.
    TimedOut {
        /// What the instance still held.
        left: String,
    },
    /// The caller gave up before it finished.
    Skipped,
    /// The drain could not be set or followed (ZooKeeper kept failing).
    Failed {
        /// Why.
        reason: String,
    },
}

impl Participant {
    /// Hands this instance's top states over before a stop (see the
    /// module docs): sets `EVACUATE`, then waits at most `timeout`, or
    /// until `skip` completes, for no top state to be left here. Messages
    /// keep being served meanwhile; call [`Participant::shutdown`] next.
    pub async fn drain(&self, timeout: Duration, skip: impl Future<Output = ()>) -> DrainOutcome {
        let started = Instant::now();
        let deadline = started + timeout;
        let work = drain_until(
            self.zk(),
            self.cluster().to_owned(),
            self.instance().to_owned(),
            deadline,
        );
        let outcome = tokio::select! {
            outcome = work => outcome,
            () = skip => DrainOutcome::Skipped,
        };
        let outcome = match outcome {
            DrainOutcome::Drained { .. } => DrainOutcome::Drained {
                took: started.elapsed(),
            },
            other => other,
        };
        match &outcome {
            DrainOutcome::Drained { took } => {
                info!(
                    instance = self.instance(),
                    took_ms = took.as_millis() as u64,
                    "drained: no top state left"
                );
            }
            DrainOutcome::TimedOut { left } => {
                warn!(
                    instance = self.instance(),
                    left, "drain timed out; stopping anyway"
                );
            }
            DrainOutcome::Skipped => {
                warn!(instance = self.instance(), "drain skipped; stopping now");
            }
            DrainOutcome::Failed { reason } => {
                warn!(
                    instance = self.instance(),
                    reason, "drain failed; stopping anyway"
                );
            }
        }
        outcome
    }
}

/// Sets the operation (retrying with backoff until the deadline), then
/// waits on the watch.
async fn drain_until(zk: Zk, cluster: String, instance: String, deadline: Instant) -> DrainOutcome {
    let admin = Admin::new(zk.clone());
    let mut backoff = Backoff::default();
    loop {
        let set = admin
            .set_instance_operation(
                &cluster,
                &instance,
                InstanceOperationKind::Evacuate,
                InstanceOperationSource::Automation,
                Some(SHUTDOWN_DRAIN_REASON),
            )
            .await;
        let watch = match set {
            Ok(()) => DrainWatch::start(&zk, &cluster, &instance).await,
            Err(err) => Err(err),
        };
        match watch {
            Ok(watch) => {
                let left = deadline.saturating_duration_since(Instant::now());
                let status = watch.wait(DrainGoal::TopStates, left).await;
                return finished(status);
            }
            Err(err) => {
                let delay = backoff.next_delay();
                if Instant::now() + delay >= deadline {
                    return DrainOutcome::Failed {
                        reason: err.to_string(),
                    };
                }
                tokio::time::sleep(delay).await;
            }
        }
    }
}

fn finished(status: DrainStatus) -> DrainOutcome {
    if status.top_states_moved() {
        DrainOutcome::Drained {
            took: Duration::ZERO,
        }
    } else {
        DrainOutcome::TimedOut {
            left: strand_admin::describe_left(&status, DrainGoal::TopStates),
        }
    }
}

/// Removes the operation a stopping participant set on itself, if it is
/// there (one read; a write only when it is). Errors are logged: the next
/// start clears it again.
pub(crate) async fn clear_own_drain(zk: &Zk, config: &ParticipantConfig) {
    let path = PropertyPaths::new(&config.cluster).instance_config(&config.instance);
    let result = Accessor::new(zk.clone())
        .update(&path, false, |current| {
            let Some(record) = current else {
                return Update::Keep;
            };
            let mut instance_config = InstanceConfig::from(record);
            let removed = instance_config.remove_instance_operations(|op| {
                op.source == Some(InstanceOperationSource::Automation)
                    && op.reason.as_deref() == Some(SHUTDOWN_DRAIN_REASON)
            });
            if removed {
                Update::Write(instance_config.into_record())
            } else {
                Update::Keep
            }
        })
        .await;
    match result {
        Ok(Some(_)) => {
            info!(instance = %config.instance, "cleared this participant's shutdown drain")
        }
        Ok(None) => {}
        Err(err) => {
            warn!(instance = %config.instance, error = %err, "could not clear this participant's shutdown drain")
        }
    }
}
