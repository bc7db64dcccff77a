//! [`Fleet`]: in-process participants of a [`Cluster`], kept by name, that
//! can be stopped (gracefully, or drained first) and started again — with
//! the ZooKeeper requests every session of theirs sent, ended ones
//! included.

use std::time::Duration;

use anyhow::{Context, Result};
use strand_participant::Participant;
use strand_zk::RequestCounts;
use tokio::sync::Mutex;

use crate::cluster::Cluster;

/// Participants by name; a stopped one keeps its place.
#[derive(Default)]
pub struct Fleet {
    participants: Mutex<Vec<(String, Option<Participant>)>>,
    /// Requests of sessions that have ended (stopped participants).
    retired: Mutex<RequestCounts>,
}

impl Fleet {
    /// Starts a participant of each of `instances` (registered in
    /// `cluster`), one after another.
    ///
    /// # Errors
    /// One could not join (those started are stopped when dropped).
    pub async fn start(cluster: &Cluster, instances: &[String]) -> Result<Self> {
        let fleet = Self::default();
        for name in instances {
            let participant = cluster.start_participant(name).await?;
            fleet
                .participants
                .lock()
                .await
                .push((name.clone(), Some(participant)));
        }
        Ok(fleet)
    }

    /// ZooKeeper requests sent so far by every session of the fleet.
    pub async fn requests(&self) -> RequestCounts {
        let mut total = *self.retired.lock().await;
        for participant in self.participants.lock().await.iter().flat_map(|(_, p)| p) {
            total = total + participant.zk().requests();
        }
        total
    }

    /// The name of participant `index`.
    pub async fn name(&self, index: usize) -> Option<String> {
        let all = self.participants.lock().await;
        all.get(index).map(|(name, _)| name.clone())
    }

    /// Stops participant `index` — after handing its top states over for
    /// at most `drain`, when given (what `strand participant` does on
    /// SIGTERM) — and returns its name.
    ///
    /// # Errors
    /// There is no such participant, or it is stopped already.
    pub async fn stop(&self, index: usize, drain: Option<Duration>) -> Result<String> {
        let (name, participant) = {
            let mut all = self.participants.lock().await;
            let (name, slot) = all.get_mut(index).context("no such participant")?;
            (
                name.clone(),
                slot.take().context("participant already stopped")?,
            )
        };
        if let Some(timeout) = drain {
            participant.drain(timeout, std::future::pending()).await;
        }
        let requests = participant.zk().requests();
        participant.shutdown().await;
        let mut retired = self.retired.lock().await;
        *retired = *retired + requests;
        Ok(name)
    }

    /// Starts the stopped participant `name` again, in a new session.
    ///
    /// # Errors
    /// It could not join.
    pub async fn restart(&self, cluster: &Cluster, name: &str) -> Result<()> {
        let participant = cluster.start_participant(name).await?;
        let mut all = self.participants.lock().await;
        if let Some((_, slot)) = all.iter_mut().find(|(n, _)| n == name) {
            *slot = Some(participant);
        }
        Ok(())
    }

    /// Stops every running participant.
    pub async fn stop_all(&self) {
        let all = std::mem::take(&mut *self.participants.lock().await);
        for participant in all.into_iter().filter_map(|(_, p)| p) {
            participant.shutdown().await;
        }
    }
}
