//! Measuring the controller's decisions without ZooKeeper, for the
//! criterion benchmarks in `benches/`: the model over a detached cache
//! ([`TreeCache::detached`]) and the decider, driven change by change
//! exactly as the leader drives them. Not part of the stable API.

use std::sync::Arc;

use strand_model::{PropertyPaths, SessionId};
use strand_rebalance::Sender;
use strand_zk::{CacheFeed, TreeCache};

use crate::aggregate::Aggregators;
use crate::decide::Decider;
use crate::dirty::Dirty;
use crate::model::ClusterModel;
use crate::pipeline::VIEW_WRITE_INTERVAL;

/// The leader's compute path over a cache, one change batch at a time.
pub struct Incremental {
    cache: TreeCache,
    feed: CacheFeed,
    model: ClusterModel,
    decider: Decider,
    aggregators: Arc<Aggregators>,
}

/// What one step decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Resources decided.
    pub resources: usize,
    /// Partitions decided.
    pub partitions: usize,
    /// Messages planned.
    pub messages: usize,
}

impl Incremental {
    /// Loads the model of `cluster` from `cache` and decides everything
    /// once, as a new leader does.
    pub fn new(cache: TreeCache, cluster: &str) -> Self {
        let paths = PropertyPaths::new(cluster);
        let feed = cache.feed();
        let mut model = ClusterModel::new(paths.clone());
        let mut dirty = Dirty::default();
        model.load(&cache, &mut dirty);
        let sender = Sender {
            name: "bench".to_owned(),
            session: SessionId(1),
        };
        let mut this = Self {
            cache,
            feed,
            model,
            decider: Decider::new(paths, sender, VIEW_WRITE_INTERVAL),
            aggregators: Arc::new(Aggregators::default()),
        };
        this.decide(&dirty);
        this
    }

    /// Applies what changed in the cache since the last step and decides
    /// what that calls for.
    pub fn step(&mut self) -> Step {
        let batch = self.feed.take();
        let mut dirty = Dirty::default();
        for path in &batch.paths {
            self.model.apply(&self.cache, path, &mut dirty);
        }
        self.decide(&dirty)
    }

    fn decide(&mut self, dirty: &Dirty) -> Step {
        let decided = self
            .decider
            .decide(&self.model, dirty, &self.aggregators, 0);
        Step {
            resources: decided.resources,
            partitions: decided.partitions,
            messages: decided.send.len(),
        }
    }
}
