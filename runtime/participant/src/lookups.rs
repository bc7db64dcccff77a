//! [`Lookups`]: the cluster records a transition needs besides its message
//! — the state model definition (initial and top state) and the
//! resource's IdealState and ResourceConfig (the plugin's `config`) —
//! watched lazily, only for the models and resources this participant
//! gets messages for, never the whole cluster.
//!
//! # Guarantees
//! A record that exists but does not parse is never used: the last good
//! copy stays in use, with an error that names the znode (once per bad
//! version). With no good copy, callers are told the record is bad and
//! wait (no transition runs on a made-up initial state).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use strand_model::{PropertyPaths, StateModelDefinition, ZNRecord};
use strand_zk::{TreeCache, Zk, ZkError};
use tokio::sync::Notify;
use tracing::{Instrument, error};

/// One watched znode and the last good record seen there.
struct Watched {
    cache: TreeCache,
    path: String,
    last_good: Mutex<Option<Arc<ZNRecord>>>,
    reported: Mutex<Option<i32>>,
}

/// What a watched znode holds now.
#[derive(Debug, Clone)]
pub(crate) enum Lookup {
    /// The record (or the last good one, when the current one is bad).
    Good(Arc<ZNRecord>),
    /// No znode.
    Absent,
    /// The znode does not parse and no good copy is known.
    Bad(String),
}

impl Watched {
    fn lookup(&self) -> Lookup {
        let Some(node) = self.cache.get(&self.path) else {
            return Lookup::Absent;
        };
        if let Some(record) = node.record() {
            *lock(&self.last_good) = Some(Arc::clone(&record));
            return Lookup::Good(record);
        }
        let version = node.version();
        let last = lock(&self.last_good).clone();
        if lock(&self.reported).replace(version) != Some(version) {
            error!(
                znode = %self.path, version,
                "record does not parse; {}",
                if last.is_some() { "keeping the last good one" } else { "no good copy known: waiting until it parses" }
            );
        }
        match last {
            Some(record) => Lookup::Good(record),
            None => Lookup::Bad(format!("{} does not parse", self.path)),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A state model definition parsed from the record it came from (parsed
/// again only when the record changes).
struct ParsedModel {
    path: String,
    record: Option<Arc<ZNRecord>>,
    definition: Option<Arc<StateModelDefinition>>,
}

/// The lazily watched records of one session.
pub(crate) struct Lookups {
    zk: Zk,
    paths: PropertyPaths,
    wake: Arc<Notify>,
    watched: Mutex<HashMap<String, Arc<Watched>>>,
    models: Mutex<HashMap<String, ParsedModel>>,
}

impl Lookups {
    /// Nothing watched yet; `wake` is notified when a watched record changes.
    pub(crate) fn new(zk: Zk, paths: PropertyPaths, wake: Arc<Notify>) -> Self {
        Self {
            zk,
            paths,
            wake,
            watched: Mutex::default(),
            models: Mutex::default(),
        }
    }

    fn model_path(&self, model: &str) -> String {
        self.paths.state_model_def(model)
    }

    fn config_paths(&self, resource: &str) -> [String; 2] {
        [
            self.paths.ideal_state(resource),
            self.paths.resource_config(resource),
        ]
    }

    /// Starts watching what messages of `resource` in `model` need.
    pub(crate) async fn watch(&self, resource: &str, model: &str) -> Result<(), ZkError> {
        let [ideal, config] = self.config_paths(resource);
        for path in [self.model_path(model), ideal, config] {
            self.watch_path(&path).await?;
        }
        Ok(())
    }

    /// Whether `watch` has everything of `resource` and `model` already.
    pub(crate) fn is_watching(&self, resource: &str, model: &str) -> bool {
        let watched = lock(&self.watched);
        let [ideal, config] = self.config_paths(resource);
        [self.model_path(model), ideal, config]
            .iter()
            .all(|p| watched.contains_key(p))
    }

    async fn watch_path(&self, path: &str) -> Result<(), ZkError> {
        if lock(&self.watched).contains_key(path) {
            return Ok(());
        }
        let cache = TreeCache::start(self.zk.clone(), path).await?;
        let mut generation = cache.generation();
        let wake = Arc::clone(&self.wake);
        tokio::spawn(
            async move {
                while generation.changed().await.is_ok() {
                    wake.notify_one();
                }
            }
            .in_current_span(),
        );
        lock(&self.watched)
            .entry(path.to_owned())
            .or_insert_with(|| {
                Arc::new(Watched {
                    cache,
                    path: path.to_owned(),
                    last_good: Mutex::default(),
                    reported: Mutex::default(),
                })
            });
        Ok(())
    }

    fn lookup(&self, path: &str) -> Lookup {
        let watched = lock(&self.watched).get(path).cloned();
        watched.map_or(Lookup::Absent, |w| w.lookup())
    }

    /// The state model definition of `model` (see [`Lookup`]), parsed once
    /// per version of its record.
    pub(crate) fn model(&self, model: &str) -> Result<Option<Arc<StateModelDefinition>>, String> {
        let mut models = lock(&self.models);
        if !models.contains_key(model) {
            let parsed = ParsedModel {
                path: self.model_path(model),
                record: None,
                definition: None,
            };
            models.insert(model.to_owned(), parsed);
        }
        let Some(parsed) = models.get_mut(model) else {
            return Ok(None);
        };
        match self.lookup(&parsed.path) {
            Lookup::Good(record) => {
                let same = parsed
                    .record
                    .as_ref()
                    .is_some_and(|seen| Arc::ptr_eq(seen, &record));
                if !same || parsed.definition.is_none() {
                    let definition = StateModelDefinition::from(Arc::clone(&record));
                    parsed.definition = Some(Arc::new(definition));
                    parsed.record = Some(record);
                }
                Ok(parsed.definition.clone())
            }
            Lookup::Absent => Ok(None),
            Lookup::Bad(reason) => Err(reason),
        }
    }

    /// The resource's IdealState and ResourceConfig simple fields, for the
    /// plugin (bad records without a good copy contribute nothing).
    pub(crate) fn resource_config(&self, resource: &str) -> Vec<(String, String)> {
        let mut config = Vec::new();
        for path in self.config_paths(resource) {
            if let Lookup::Good(record) = self.lookup(&path) {
                config.extend(
                    record
                        .simple_fields
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone())),
                );
            }
        }
        config
    }
}
