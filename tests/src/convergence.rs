//! [`Convergence`]: waits until a MasterSlave resource has settled — every
//! partition with one MASTER and the rest SLAVE in the live sessions'
//! current states, and no message left in any instance's MESSAGES (every
//! message driven to an end) — and the external view shows the same (the
//! controller caught up: [`Progress::view_settled`]), on a session of its
//! own that outlives ZooKeeper outages; reads that fail meanwhile just mean
//! "not yet".

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use strand_model::{CurrentState, ExternalView, Message, PropertyPaths, ZNRecord};
use strand_zk::{Zk, ZkConfig, ZkError};

use crate::cluster::{CLUSTER, View, count};

/// A partition's replicas: instance → state.
pub type Replicas = BTreeMap<String, String>;

/// What the cluster looked like at the last poll.
#[derive(Debug, Default)]
pub struct Progress {
    /// Partitions with at least one replica in a current state.
    pub seen: usize,
    /// Partitions whose live replicas are one MASTER and the rest SLAVE.
    pub settled: usize,
    /// Partitions so in the external view.
    pub view_settled: usize,
    /// A few partitions not settled (by current states, else by the view):
    /// the view's replicas, and what the live sessions' current states say.
    pub unsettled: BTreeMap<String, (Replicas, Replicas)>,
    /// Messages left, by instance and state (`NEW`, `READ`, …).
    pub messages: BTreeMap<String, BTreeMap<String, usize>>,
}

/// The waiter.
pub struct Convergence {
    zk: Zk,
    paths: PropertyPaths,
}

impl Convergence {
    /// Connects with a 30 s session timeout.
    pub async fn connect(connect: &str) -> Self {
        let config = ZkConfig::new(connect).with_session_timeout(Duration::from_secs(30));
        Self {
            zk: Zk::connect(config)
                .await
                .expect("convergence watcher connects"),
            paths: PropertyPaths::new(CLUSTER),
        }
    }

    /// Its session (30 s timeout), for other reads that must outlive faults.
    pub fn zk(&self) -> &Zk {
        &self.zk
    }

    /// The resource's external view (partition → instance → state).
    pub async fn view(&self, resource: &str) -> Result<View, ZkError> {
        let Some((data, _)) = self.zk.get(&self.paths.external_view(resource)).await? else {
            return Ok(View::new());
        };
        let Ok(Some(record)) = ZNRecord::from_bytes(&data) else {
            return Ok(View::new());
        };
        let view = ExternalView::from(record);
        Ok(view
            .partitions()
            .map(|p| {
                let map = view
                    .state_map(p)
                    .map(|m| m.clone().into_iter().collect())
                    .unwrap_or_default();
                (p.to_owned(), map)
            })
            .collect())
    }

    /// Where the resource stands now.
    pub async fn progress(&self, resource: &str, replicas: usize) -> Result<Progress, ZkError> {
        let view = self.view(resource).await?;
        let is_settled = |m: &BTreeMap<String, String>| {
            m.len() == replicas && count(m, "MASTER") == 1 && count(m, "SLAVE") == replicas - 1
        };
        let mut recorded: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (instance, cs) in self.current_states(resource).await? {
            for (partition, state) in cs.partition_states() {
                recorded
                    .entry(partition.to_owned())
                    .or_default()
                    .insert(instance.clone(), state.to_owned());
            }
        }
        let settled = recorded.values().filter(|m| is_settled(m)).count();
        let seen = recorded.values().filter(|m| !m.is_empty()).count();
        let view_settled = view.values().filter(|m| is_settled(m)).count();
        let mut unsettled = BTreeMap::new();
        let mut odd: Vec<&String> = recorded
            .iter()
            .filter(|(_, m)| !is_settled(m))
            .map(|(p, _)| p)
            .take(3)
            .collect();
        if odd.is_empty() {
            odd = view
                .iter()
                .filter(|(_, m)| !is_settled(m))
                .map(|(p, _)| p)
                .take(3)
                .collect();
        }
        for partition in odd {
            unsettled.insert(
                partition.clone(),
                (
                    view.get(partition).cloned().unwrap_or_default(),
                    recorded.get(partition).cloned().unwrap_or_default(),
                ),
            );
        }
        let mut messages = BTreeMap::new();
        for instance in self.zk.children(&self.paths.instances()).await? {
            let root = self.paths.messages(&instance);
            let mut states: BTreeMap<String, usize> = BTreeMap::new();
            for id in self.zk.children(&root).await? {
                let state = match self.zk.get(&strand_zk::join(&root, &id)).await? {
                    Some((data, _)) => ZNRecord::from_bytes(&data)
                        .ok()
                        .flatten()
                        .and_then(|r| Message::from(r).msg_state().map(|s| s.as_str().to_owned()))
                        .unwrap_or_else(|| "unparsable".to_owned()),
                    None => continue,
                };
                *states.entry(state).or_default() += 1;
            }
            if !states.is_empty() {
                messages.insert(instance, states);
            }
        }
        Ok(Progress {
            seen,
            settled,
            view_settled,
            unsettled,
            messages,
        })
    }

    /// How many partitions of `resource` have a replica in a live session's
    /// current state (a cheap "under way" check: no message is read).
    pub async fn replicas_seen(&self, resource: &str) -> Result<usize, ZkError> {
        let mut partitions = std::collections::BTreeSet::new();
        for (_, cs) in self.current_states(resource).await? {
            partitions.extend(cs.partitions().map(str::to_owned));
        }
        Ok(partitions.len())
    }

    /// The live sessions' current states of `resource`, by instance.
    async fn current_states(&self, resource: &str) -> Result<Vec<(String, CurrentState)>, ZkError> {
        let mut states = Vec::new();
        for live in self.zk.children(&self.paths.live_instances()).await? {
            let Some(stat) = self.zk.exists(&self.paths.live_instance(&live)).await? else {
                continue;
            };
            let session = format!("{:x}", stat.ephemeral_owner);
            let path = self.paths.current_state(&live, &session, resource);
            if let Some((data, _)) = self.zk.get(&path).await?
                && let Ok(Some(record)) = ZNRecord::from_bytes(&data)
            {
                states.push((live, CurrentState::from(record)));
            }
        }
        Ok(states)
    }

    /// Waits (polling, up to `deadline`) until all `partitions` are settled
    /// in the current states and in the external view and no message is
    /// left; returns the progress then, panics with the last progress
    /// otherwise.
    pub async fn wait(
        &self,
        resource: &str,
        partitions: usize,
        replicas: usize,
        deadline: Duration,
    ) -> Progress {
        let end = Instant::now() + deadline;
        let mut last = None;
        loop {
            match self.progress(resource, replicas).await {
                Ok(p)
                    if p.settled == partitions
                        && p.view_settled == partitions
                        && p.messages.is_empty() =>
                {
                    return p;
                }
                Ok(p) => last = Some(p),
                Err(_) => {}
            }
            assert!(
                Instant::now() < end,
                "{resource} did not converge within {deadline:?}: {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
