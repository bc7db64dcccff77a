//! [`MasterWatch`]: samples every live session's current states and counts,
//! per partition, the replicas in MASTER; remembers the highest count of
//! any *consistent* sample, so a test can assert there never were two.
//!
//! A sample is read twice, one full pass after the other; it counts only
//! when both passes agree on every znode (the same live instances, the same
//! current-state records, each at the same `mzxid`). Then there was an
//! instant — between the passes — at which the cluster was exactly as
//! read, so a count of two MASTERs is a real double master, never an
//! artefact of reading records at different times. Samples whose reads
//! fail (ZooKeeper down, a leader election) are skipped, not counted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use strand_model::{CurrentState, PropertyPaths, ZNRecord};
use strand_zk::{Zk, ZkConfig, ZkError};

use crate::cluster::CLUSTER;

/// The watcher; stops when dropped.
pub struct MasterWatch {
    max_masters: Arc<AtomicUsize>,
    samples: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

/// One full read: every znode read with its `mzxid`, and the MASTER
/// count per partition.
#[derive(PartialEq, Eq)]
struct Pass {
    versions: BTreeMap<String, i64>,
    masters: BTreeMap<(String, String), usize>,
}

async fn read_pass(zk: &Zk, paths: &PropertyPaths) -> Result<Pass, ZkError> {
    let mut versions = BTreeMap::new();
    let mut masters: BTreeMap<(String, String), usize> = BTreeMap::new();
    for live in zk.children(&paths.live_instances()).await? {
        let path = paths.live_instance(&live);
        let Some(stat) = zk.exists(&path).await? else {
            versions.insert(path, -1);
            continue;
        };
        versions.insert(path, stat.mzxid);
        let session = format!("{:x}", stat.ephemeral_owner);
        let root = paths.current_states(&live, &session);
        for resource in zk.children(&root).await? {
            let path = strand_zk::join(&root, &resource);
            let Some((data, stat)) = zk.get(&path).await? else {
                versions.insert(path, -1);
                continue;
            };
            versions.insert(path, stat.mzxid);
            let Ok(Some(record)) = ZNRecord::from_bytes(&data) else {
                continue;
            };
            for (partition, state) in CurrentState::from(record).partition_states() {
                if state == "MASTER" {
                    *masters
                        .entry((resource.clone(), partition.to_owned()))
                        .or_default() += 1;
                }
            }
        }
    }
    Ok(Pass { versions, masters })
}

impl MasterWatch {
    /// Starts sampling through `zk` (keep its session timeout longer than
    /// any outage the test causes).
    pub async fn start(zk: Zk) -> Self {
        let paths = PropertyPaths::new(CLUSTER);
        let max_masters = Arc::new(AtomicUsize::new(0));
        let samples = Arc::new(AtomicU64::new(0));
        let (max, count) = (Arc::clone(&max_masters), Arc::clone(&samples));
        let task = tokio::spawn(async move {
            loop {
                let first = read_pass(&zk, &paths).await;
                let second = read_pass(&zk, &paths).await;
                match (first, second) {
                    (Ok(a), Ok(b)) if a == b => {
                        let worst = a.masters.values().copied().max().unwrap_or(0);
                        max.fetch_max(worst, Ordering::SeqCst);
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    (Err(ZkError::SessionExpired), _) | (_, Err(ZkError::SessionExpired)) => {
                        return;
                    }
                    _ => {}
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        Self {
            max_masters,
            samples,
            task,
        }
    }

    /// Starts sampling on a session of its own, with a 30 s timeout so it
    /// outlives a ZooKeeper restart or leader election.
    pub async fn connect(connect: &str) -> Self {
        let config = ZkConfig::new(connect).with_session_timeout(Duration::from_secs(30));
        let zk = Zk::connect(config).await.expect("watcher connects");
        Self::start(zk).await
    }

    /// Waits (up to a minute) until a consistent sample begun after this
    /// call is counted, so that [`MasterWatch::max`] covers what the cluster
    /// looks like now.
    pub async fn catch_up(&self) {
        // The sample under way may have begun before the call: wait for
        // two more.
        let wanted = self.samples() + 2;
        let end = std::time::Instant::now() + Duration::from_secs(60);
        while self.samples() < wanted {
            assert!(
                std::time::Instant::now() < end,
                "the watcher took no consistent sample for a minute"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The most MASTER replicas any partition had in a consistent sample.
    pub fn max(&self) -> usize {
        self.max_masters.load(Ordering::SeqCst)
    }

    /// How many consistent samples were taken.
    pub fn samples(&self) -> u64 {
        self.samples.load(Ordering::SeqCst)
    }
}

impl Drop for MasterWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}
