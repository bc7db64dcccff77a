//! Draining an instance before planned maintenance — Helix 2.0.1's
//! `EVACUATE` instance operation (`HELIX_INSTANCE_OPERATIONS` in the
//! InstanceConfig, set as `InstanceConfig.setInstanceOperation` sets it),
//! so a Java controller honours it as far as Helix does, and Strand's
//! controller also hands SEMI_AUTO top states over.
//!
//! * [`Admin::drain_instance`] / [`Admin::undrain_instance`]: `EVACUATE`,
//!   and back to `ENABLE`, for a source (`USER` by default, as Helix REST).
//! * [`Admin::drain_status`]: what the instance still holds — top states
//!   (MASTER, LEADER, …) and FULL_AUTO replicas — read once.
//! * [`DrainWatch`]: the same, followed through watched caches, to wait
//!   until the top states (or everything) have moved, without polling.

use std::collections::BTreeMap;
use std::time::Duration;

use strand_model::time::now_ms;
use strand_model::{
    CurrentState, IdealState, InstanceConfig, InstanceOperation, InstanceOperationKind,
    InstanceOperationSource, PropertyPaths, RebalanceMode, StateModelDefinition,
};
use strand_zk::{TreeCache, Zk};

use crate::Admin;
use crate::error::Result;

/// One replica an instance still holds: (resource, partition, state).
pub type HeldReplica = (String, String, String);

/// What a draining instance still holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainStatus {
    /// The instance.
    pub instance: String,
    /// Its effective instance operation is `EVACUATE`.
    pub evacuating: bool,
    /// It has a LiveInstance.
    pub live: bool,
    /// Replicas in their model's top state (MASTER, LEADER, ONLINE, …).
    pub top_states: Vec<HeldReplica>,
    /// Replicas of FULL_AUTO resources, in any state but DROPPED.
    pub full_auto_replicas: Vec<HeldReplica>,
    /// Messages addressed to it that are not handled yet.
    pub pending_messages: usize,
}

impl DrainStatus {
    /// No top state is left on the instance (or it is not live).
    pub fn top_states_moved(&self) -> bool {
        !self.live || self.top_states.is_empty()
    }

    /// Helix's `isEvacuateFinished`: no top state, no FULL_AUTO replica
    /// and no pending message left (or the instance is not live).
    pub fn finished(&self) -> bool {
        !self.live
            || (self.top_states.is_empty()
                && self.full_auto_replicas.is_empty()
                && self.pending_messages == 0)
    }
}

/// What to wait for in [`DrainWatch::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainGoal {
    /// Every top state handed over (what a restart needs).
    TopStates,
    /// Everything moved ([`DrainStatus::finished`]).
    Finished,
}

impl DrainGoal {
    fn reached(self, status: &DrainStatus) -> bool {
        match self {
            DrainGoal::TopStates => status.top_states_moved(),
            DrainGoal::Finished => status.finished(),
        }
    }
}

impl Admin {
    /// Sets an instance operation as Helix's `setInstanceOperation` does
    /// (see [`InstanceConfig::set_instance_operation`]), with `now` as its
    /// `TIMESTAMP`.
    pub async fn set_instance_operation(
        &self,
        cluster: &str,
        instance: &str,
        kind: InstanceOperationKind,
        source: InstanceOperationSource,
        reason: Option<&str>,
    ) -> Result<()> {
        self.require_instance(cluster, instance).await?;
        let now = now_ms();
        let operation = InstanceOperation {
            reason: Some(reason.unwrap_or_default().to_owned()),
            source: Some(source),
            timestamp: Some(now),
            ..InstanceOperation::new(kind)
        };
        self.update_instance_config(cluster, instance, |config| {
            config.set_instance_operation(&operation, now);
        })
        .await
    }

    /// Drains an instance: `EVACUATE` from source `USER`.
    pub async fn drain_instance(
        &self,
        cluster: &str,
        instance: &str,
        reason: Option<&str>,
    ) -> Result<()> {
        self.set_instance_operation(
            cluster,
            instance,
            InstanceOperationKind::Evacuate,
            InstanceOperationSource::User,
            reason,
        )
        .await
    }

    /// Ends a drain: `ENABLE` from source `USER`, which replaces the
    /// `USER` drain (an operation of another source, e.g. a participant's
    /// own shutdown drain, stays until that source ends it).
    pub async fn undrain_instance(&self, cluster: &str, instance: &str) -> Result<()> {
        self.set_instance_operation(
            cluster,
            instance,
            InstanceOperationKind::Enable,
            InstanceOperationSource::User,
            None,
        )
        .await
    }

    /// What the instance still holds, read once.
    pub async fn drain_status(&self, cluster: &str, instance: &str) -> Result<DrainStatus> {
        self.require_instance(cluster, instance).await?;
        let watch = DrainWatch::start(self.zk(), cluster, instance).await?;
        Ok(watch.status())
    }
}

/// An instance's drain, followed through watched caches of its config,
/// its subtree (current states, messages), the LiveInstances, the state
/// model definitions and the ideal states.
pub struct DrainWatch {
    paths: PropertyPaths,
    instance: String,
    config: TreeCache,
    subtree: TreeCache,
    live: TreeCache,
    models: TreeCache,
    ideals: TreeCache,
}

impl std::fmt::Debug for DrainWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DrainWatch")
            .field("instance", &self.instance)
            .finish()
    }
}

impl DrainWatch {
    /// Starts the caches (each lists its subtree once).
    pub async fn start(zk: &Zk, cluster: &str, instance: &str) -> Result<Self> {
        let paths = PropertyPaths::new(cluster);
        let cache = async |root: String| TreeCache::start(zk.clone(), &root).await;
        Ok(Self {
            config: cache(paths.instance_config(instance)).await?,
            subtree: cache(paths.instance(instance)).await?,
            live: cache(paths.live_instances()).await?,
            models: cache(paths.state_model_defs()).await?,
            ideals: cache(paths.ideal_states()).await?,
            instance: instance.to_owned(),
            paths,
        })
    }

    /// What the instance holds now, per the caches.
    pub fn status(&self) -> DrainStatus {
        let instance = self.instance.as_str();
        let evacuating = self
            .config
            .record(&self.paths.instance_config(instance))
            .is_some_and(|r| InstanceConfig::from((*r).clone()).is_evacuating());
        let session = self
            .live
            .get(&self.paths.live_instance(instance))
            .and_then(|node| {
                node.ephemeral_owner().or_else(|| {
                    node.record()
                        .and_then(|r| r.simple("SESSION_ID").map(str::to_owned))
                })
            });
        let mut status = DrainStatus {
            instance: instance.to_owned(),
            evacuating,
            live: session.is_some(),
            ..DrainStatus::default()
        };
        let Some(session) = session else {
            return status;
        };
        let mut tops: BTreeMap<String, Option<String>> = BTreeMap::new();
        let dir = self.paths.current_states(instance, &session);
        for (resource, record) in self.subtree.child_records(&dir) {
            let current = CurrentState::from((*record).clone());
            let model = current.state_model_def().map(str::to_owned);
            let top = match &model {
                Some(model) => tops
                    .entry(model.clone())
                    .or_insert_with(|| {
                        self.models
                            .record(&self.paths.state_model_def(model))
                            .and_then(|r| {
                                StateModelDefinition::from((*r).clone())
                                    .top_state()
                                    .map(str::to_owned)
                            })
                    })
                    .clone(),
                None => None,
            };
            let full_auto = self
                .ideals
                .record(&self.paths.ideal_state(&resource))
                .is_some_and(|r| {
                    IdealState::from((*r).clone()).rebalance_mode() == RebalanceMode::FullAuto
                });
            for partition in current.partitions() {
                let Some(state) = current.state(partition) else {
                    continue;
                };
                let held = (resource.clone(), partition.to_owned(), state.to_owned());
                if top.as_deref() == Some(state) {
                    status.top_states.push(held.clone());
                }
                if full_auto && state != strand_model::records::DROPPED {
                    status.full_auto_replicas.push(held);
                }
            }
        }
        status.pending_messages = self.subtree.children(&self.paths.messages(instance)).len();
        status
    }

    /// Waits until `goal` is reached or `timeout` passes; returns the last
    /// status either way (check it with [`DrainStatus::top_states_moved`]
    /// or [`DrainStatus::finished`]).
    pub async fn wait(&self, goal: DrainGoal, timeout: Duration) -> DrainStatus {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut generations = [
            self.config.generation(),
            self.subtree.generation(),
            self.live.generation(),
            self.models.generation(),
            self.ideals.generation(),
        ];
        loop {
            let status = self.status();
            if goal.reached(&status) {
                return status;
            }
            let [a, b, c, d, e] = &mut generations;
            let changed = async {
                tokio::select! {
                    r = a.changed() => r,
                    r = b.changed() => r,
                    r = c.changed() => r,
                    r = d.changed() => r,
                    r = e.changed() => r,
                }
            };
            match tokio::time::timeout_at(deadline, changed).await {
                Ok(Ok(())) => {}
                // Timed out, or a cache ended with its session.
                Ok(Err(_)) | Err(_) => return self.status(),
            }
        }
    }
}

/// A drain that did not finish in time: what is left, as one line.
pub fn describe_left(status: &DrainStatus, goal: DrainGoal) -> String {
    let list = |held: &[HeldReplica]| {
        let shown: Vec<String> = held
            .iter()
            .take(5)
            .map(|(r, p, s)| format!("{r}/{p} {s}"))
            .collect();
        let more = held.len().saturating_sub(shown.len());
        if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    let mut parts = Vec::new();
    if !status.top_states.is_empty() {
        parts.push(format!(
            "{} top state(s) still on {} ({}): no other replica took them over",
            status.top_states.len(),
            status.instance,
            list(&status.top_states)
        ));
    }
    if goal == DrainGoal::Finished && !status.full_auto_replicas.is_empty() {
        parts.push(format!(
            "{} FULL_AUTO replica(s) not moved yet ({})",
            status.full_auto_replicas.len(),
            list(&status.full_auto_replicas)
        ));
    }
    if goal == DrainGoal::Finished && status.pending_messages > 0 {
        parts.push(format!("{} message(s) pending", status.pending_messages));
    }
    parts.join("; ")
}
