//! [`MasterWatch`]: watches every current state of the cluster and counts,
//! per partition, the live sessions' replicas in MASTER; remembers the
//! highest count ever seen, so a test can assert there never were two.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use strand_model::{CurrentState, PropertyPaths, ZNRecord};
use strand_zk::{TreeCache, Zk};

use crate::cluster::CLUSTER;

/// The watcher; stops when dropped.
pub struct MasterWatch {
    max_masters: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl MasterWatch {
    /// Starts watching the cluster through `zk`.
    pub async fn start(zk: Zk) -> Self {
        let paths = PropertyPaths::new(CLUSTER);
        let cache = TreeCache::start(zk, &paths.cluster()).await.expect("cache");
        let max_masters = Arc::new(AtomicUsize::new(0));
        let max = Arc::clone(&max_masters);
        let task = tokio::spawn(async move {
            let mut generation = cache.generation();
            loop {
                let mut masters: BTreeMap<(String, String), usize> = BTreeMap::new();
                for live in cache.children(&paths.live_instances()) {
                    let Some(session) = cache
                        .get(&paths.live_instance(&live))
                        .and_then(|n| n.ephemeral_owner())
                    else {
                        continue;
                    };
                    let root = paths.current_states(&live, &session);
                    for (resource, record) in cache.child_records(&root) {
                        let state = CurrentState::from(ZNRecord::clone(&record));
                        for (partition, value) in state.partition_states() {
                            if value == "MASTER" {
                                *masters
                                    .entry((resource.clone(), partition.to_owned()))
                                    .or_default() += 1;
                            }
                        }
                    }
                }
                let worst = masters.values().copied().max().unwrap_or(0);
                max.fetch_max(worst, Ordering::SeqCst);
                if generation.changed().await.is_err() {
                    return;
                }
            }
        });
        Self { max_masters, task }
    }

    /// The most MASTER replicas any partition had at once.
    pub fn max(&self) -> usize {
        self.max_masters.load(Ordering::SeqCst)
    }
}

impl Drop for MasterWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}
