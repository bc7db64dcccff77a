//! The console's live feed: one watched mirror per cluster, shared by every
//! page open on it, that turns ZooKeeper changes into per-topic documents.
//!
//! A [`ClusterFeed`] follows the cluster with one [`TreeCache`] (the same
//! watches the spectator and the controller use), leaving out what no page
//! shows (status updates, errors, health reports, the property store's bulk
//! data). Its documents are *topics*:
//!
//! | topic | document |
//! |---|---|
//! | `instances` | every configured or live instance: live, session, enabled, instance operation, tags, pending messages, plugin versions and load errors |
//! | `controller` | the leader and the leader's status record (its last pipeline run, resources held back) |
//! | `plugins` | deployed plugins: kind, active version, versions |
//! | `resource/<R>` | one resource: its IdealState summary, every view (`EXTERNALVIEW` and each customized type) as partition → instance → state, partitions in `ERROR` with their `INFO`, pending messages |
//!
//! A change marks only the topics it touches (a current state marks its
//! resource, a message its resource and `instances`, …); marked topics are
//! recomputed after a short coalescing delay and published only when their
//! document changed. So a change to one partition of a 10,000-partition
//! cluster sends that partition's resource, never the whole cluster.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use serde_json::{Value, json};
use strand_model::records::{CurrentState, InstanceConfig, LiveInstance, Message};
use strand_model::{PropertyPaths, ZNRecord};
use strand_zk::{CacheOptions, FeedBatch, TreeCache, Zk, ZkError};
use tokio::sync::broadcast;
use tracing::debug;

/// How long changes are gathered before topics are recomputed: bursts (a
/// rebalance writes many current states at once) become one update per
/// topic, well within the console's one-second promise.
const COALESCE: Duration = Duration::from_millis(50);

/// Updates a slow page may fall behind by before it is sent a fresh
/// snapshot instead.
const BACKLOG: usize = 256;

/// The status record the leading Strand controller writes (see
/// `strand-controller`'s `status_record` module).
const CONTROLLER_STATUS: &str = "PROPERTYSTORE/STRAND/CONTROLLER";

/// The `instances` topic.
pub const INSTANCES: &str = "instances";
/// The `controller` topic.
pub const CONTROLLER: &str = "controller";
/// The `plugins` topic.
pub const PLUGINS: &str = "plugins";

/// The topic of one resource.
pub fn resource_topic(resource: &str) -> String {
    format!("resource/{resource}")
}

/// One topic's new document (`None`: the topic is gone, e.g. a resource
/// was dropped).
#[derive(Debug, Clone)]
pub struct TopicUpdate {
    /// The topic.
    pub topic: Arc<str>,
    /// Its document as JSON text.
    pub value: Option<Arc<str>>,
}

/// Every topic's document as of now.
pub type Snapshot = Vec<(Arc<str>, Arc<str>)>;

/// The live feeds of this process, one per cluster while a page follows it.
#[derive(Debug, Clone, Default)]
pub struct Feeds {
    clusters: Arc<Mutex<HashMap<String, Weak<ClusterFeed>>>>,
}

impl Feeds {
    /// The feed of `cluster`, started on first use; `None` when the
    /// cluster does not exist.
    pub async fn subscribe(
        &self,
        zk: &Zk,
        cluster: &str,
    ) -> Result<Option<Arc<ClusterFeed>>, ZkError> {
        if let Some(feed) = self.lock().get(cluster).and_then(Weak::upgrade) {
            return Ok(Some(feed));
        }
        let paths = PropertyPaths::new(cluster);
        if zk.exists(&paths.ideal_states()).await?.is_none() {
            return Ok(None);
        }
        let started = Arc::new(ClusterFeed::start(zk.clone(), cluster).await?);
        let mut clusters = self.lock();
        // Another page may have started one meanwhile: keep a single feed.
        if let Some(feed) = clusters.get(cluster).and_then(Weak::upgrade) {
            return Ok(Some(feed));
        }
        clusters.retain(|_, feed| feed.strong_count() > 0);
        clusters.insert(cluster.to_owned(), Arc::downgrade(&started));
        Ok(Some(started))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Weak<ClusterFeed>>> {
        self.clusters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One cluster's feed: its mirror and the broadcast of topic updates.
/// Dropped (and its watches with it) when the last page leaves.
#[derive(Debug)]
pub struct ClusterFeed {
    shared: Arc<FeedShared>,
    _task: AbortOnDrop,
}

#[derive(Debug)]
struct FeedShared {
    documents: Mutex<BTreeMap<Arc<str>, Arc<str>>>,
    updates: broadcast::Sender<TopicUpdate>,
}

impl FeedShared {
    fn documents(&self) -> MutexGuard<'_, BTreeMap<Arc<str>, Arc<str>>> {
        self.documents
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl ClusterFeed {
    async fn start(zk: Zk, cluster: &str) -> Result<Self, ZkError> {
        let root = PropertyPaths::new(cluster).cluster();
        let skip_root = root.clone();
        let options = CacheOptions {
            skip: Some(Arc::new(move |path: &str| is_skipped(&skip_root, path))),
            ..CacheOptions::default()
        };
        let cache = TreeCache::start_with(zk, &root, options).await?;
        let feed = cache.feed();
        let (updates, _) = broadcast::channel(BACKLOG);
        let shared = Arc::new(FeedShared {
            documents: Mutex::new(BTreeMap::new()),
            updates,
        });
        let mut mirror = Mirror::new(root, cache);
        mirror.publish(&shared, Dirty::everything(), true);
        let task = tokio::spawn(follow(mirror, feed, Arc::clone(&shared)));
        Ok(Self {
            shared,
            _task: AbortOnDrop(task),
        })
    }

    /// Every topic's document and a subscription to what changes after
    /// them, taken together: no update falls between the two.
    pub fn snapshot_and_subscribe(&self) -> (Snapshot, broadcast::Receiver<TopicUpdate>) {
        let documents = self.shared.documents();
        let receiver = self.shared.updates.subscribe();
        let snapshot = documents
            .iter()
            .map(|(topic, doc)| (Arc::clone(topic), Arc::clone(doc)))
            .collect();
        (snapshot, receiver)
    }
}

/// Follows the cache: each batch of changes (gathered for [`COALESCE`])
/// marks topics, which are then recomputed and published.
async fn follow(mut mirror: Mirror, mut feed: strand_zk::CacheFeed, shared: Arc<FeedShared>) {
    loop {
        let first = feed.next().await;
        tokio::time::sleep(COALESCE).await;
        let rest = feed.take();
        let mut dirty = Dirty::default();
        let mut ended = false;
        for batch in [first, rest] {
            ended |= batch.session_ended;
            mirror.mark(&batch, &mut dirty);
        }
        mirror.publish(&shared, dirty, !ended);
        if ended {
            debug!(root = mirror.root, "console feed: session ended");
            return;
        }
    }
}

/// Which topics a batch of changes touches.
#[derive(Debug, Default, PartialEq, Eq)]
struct Dirty {
    all: bool,
    instances: bool,
    controller: bool,
    plugins: bool,
    all_resources: bool,
    resources: BTreeSet<String>,
}

impl Dirty {
    fn everything() -> Self {
        Self {
            all: true,
            ..Self::default()
        }
    }
}

/// Which znode a path is, as far as the console cares.
#[derive(Debug, PartialEq, Eq)]
enum Node<'a> {
    Resource(&'a str),
    Message { instance: &'a str },
    LiveInstance,
    Instance,
    Controller,
    Plugin,
    Other,
}

fn segments<'a>(root: &str, path: &'a str) -> Option<Vec<&'a str>> {
    let below = path.strip_prefix(root)?;
    if below.is_empty() {
        return Some(Vec::new());
    }
    Some(below.strip_prefix('/')?.split('/').collect())
}

fn classify<'a>(root: &str, path: &'a str) -> Node<'a> {
    let Some(parts) = segments(root, path) else {
        return Node::Other;
    };
    match parts.as_slice() {
        ["IDEALSTATES", resource] | ["EXTERNALVIEW", resource] => Node::Resource(resource),
        ["CUSTOMIZEDVIEW", _, resource] => Node::Resource(resource),
        ["INSTANCES", _, "CURRENTSTATES", _, resource] => Node::Resource(resource),
        ["INSTANCES", instance, "MESSAGES", _] => Node::Message { instance },
        ["LIVEINSTANCES", _] => Node::LiveInstance,
        ["INSTANCES", _] | ["CONFIGS", "PARTICIPANT", _] => Node::Instance,
        ["PROPERTYSTORE", "STRAND", "STATUS", _] => Node::Instance,
        ["CONTROLLER", "LEADER"] => Node::Controller,
        ["PROPERTYSTORE", "STRAND", "CONTROLLER"] => Node::Controller,
        ["PROPERTYSTORE", "STRAND", "PLUGINS", _] => Node::Plugin,
        _ => Node::Other,
    }
}

/// What the console's cache leaves out: everything below an instance but
/// its messages and current states, the controller's bookkeeping, the
/// property store but Strand's status and plugin records, and the records
/// no page shows. Holds for everything below a skipped path too.
fn is_skipped(root: &str, path: &str) -> bool {
    let Some(parts) = segments(root, path) else {
        return false;
    };
    match parts.as_slice() {
        ["INSTANCES", _, kind, ..] => !matches!(*kind, "MESSAGES" | "CURRENTSTATES"),
        ["CONTROLLER", kind, ..] => *kind != "LEADER",
        ["PROPERTYSTORE", "STRAND", kind, ..] => {
            !matches!(*kind, "STATUS" | "PLUGINS" | "CONTROLLER")
        }
        ["PROPERTYSTORE", "STRAND"] => false,
        ["PROPERTYSTORE", _, ..] => true,
        ["CONFIGS", scope, ..] => *scope != "PARTICIPANT",
        [kind, ..] => matches!(*kind, "STATEMODELDEFS" | "TARGETEXTERNALVIEW" | "STATUS"),
        [] => false,
    }
}

/// The cache and what the documents are derived from.
struct Mirror {
    root: String,
    cache: TreeCache,
    /// Each message's resource (read when it appeared; its deletion
    /// carries no data).
    message_resources: HashMap<String, String>,
}

impl Mirror {
    fn new(root: String, cache: TreeCache) -> Self {
        let mut mirror = Self {
            root,
            cache,
            message_resources: HashMap::new(),
        };
        for instance in mirror.cache.children(&format!("{}/INSTANCES", mirror.root)) {
            let messages = format!("{}/INSTANCES/{instance}/MESSAGES", mirror.root);
            for id in mirror.cache.children(&messages) {
                mirror.learn_message(&format!("{messages}/{id}"));
            }
        }
        mirror
    }

    fn learn_message(&mut self, path: &str) -> Option<String> {
        let record = self.cache.record(path)?;
        let resource = Message::from(record).resource_name()?.to_owned();
        self.message_resources
            .insert(path.to_owned(), resource.clone());
        Some(resource)
    }

    /// Marks what `batch` touches.
    fn mark(&mut self, batch: &FeedBatch, dirty: &mut Dirty) {
        if batch.resynced || batch.session_ended {
            dirty.all = true;
        }
        let root = self.root.clone();
        for path in &batch.paths {
            match classify(&root, path) {
                Node::Resource(resource) => {
                    dirty.resources.insert(resource.to_owned());
                }
                Node::Message { .. } => {
                    dirty.instances = true;
                    let resource = if self.cache.contains(path) {
                        self.learn_message(path)
                    } else {
                        self.message_resources.remove(path)
                    };
                    if let Some(resource) = resource {
                        dirty.resources.insert(resource);
                    }
                }
                Node::LiveInstance => {
                    // A session change decides which current states count.
                    dirty.instances = true;
                    dirty.all_resources = true;
                }
                Node::Instance => dirty.instances = true,
                Node::Controller => dirty.controller = true,
                Node::Plugin => dirty.plugins = true,
                Node::Other => {}
            }
        }
    }

    /// Recomputes the marked topics and publishes those that changed.
    fn publish(&mut self, shared: &FeedShared, dirty: Dirty, connected: bool) {
        let mut fresh: Vec<(String, Option<Value>)> = Vec::new();
        if dirty.all || dirty.instances {
            fresh.push((INSTANCES.to_owned(), Some(self.instances())));
        }
        if dirty.all || dirty.controller || !connected {
            fresh.push((CONTROLLER.to_owned(), Some(self.controller(connected))));
        }
        if dirty.all || dirty.plugins {
            fresh.push((PLUGINS.to_owned(), Some(self.plugins())));
        }
        let mut resources = dirty.resources;
        if dirty.all || dirty.all_resources {
            resources.extend(self.resources());
            let known: Vec<String> = shared
                .documents()
                .keys()
                .filter_map(|topic| topic.strip_prefix("resource/").map(str::to_owned))
                .collect();
            resources.extend(known);
        }
        for resource in resources {
            fresh.push((resource_topic(&resource), self.resource(&resource)));
        }

        let mut documents = shared.documents();
        for (topic, value) in fresh {
            let text: Option<Arc<str>> = value.map(|v| Arc::from(v.to_string()));
            let unchanged = match (&text, documents.get(topic.as_str())) {
                (Some(new), Some(old)) => new == old,
                (None, None) => true,
                _ => false,
            };
            if unchanged {
                continue;
            }
            let topic: Arc<str> = Arc::from(topic);
            match &text {
                Some(doc) => {
                    documents.insert(Arc::clone(&topic), Arc::clone(doc));
                }
                None => {
                    documents.remove(&topic);
                }
            }
            // Sent under the lock, so snapshots and updates never cross.
            let _ = shared.updates.send(TopicUpdate { topic, value: text });
        }
    }

    fn path(&self, below: &str) -> String {
        format!("{}/{below}", self.root)
    }

    fn resources(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = self
            .cache
            .children(&self.path("IDEALSTATES"))
            .into_iter()
            .collect();
        names.extend(self.cache.children(&self.path("EXTERNALVIEW")));
        for kind in self.cache.children(&self.path("CUSTOMIZEDVIEW")) {
            names.extend(
                self.cache
                    .children(&self.path(&format!("CUSTOMIZEDVIEW/{kind}"))),
            );
        }
        names
    }

    /// Live instances and their sessions.
    fn sessions(&self) -> BTreeMap<String, Option<String>> {
        self.cache
            .child_records(&self.path("LIVEINSTANCES"))
            .into_iter()
            .map(|(name, record)| {
                let session = LiveInstance::from(record)
                    .session_id_str()
                    .map(str::to_owned);
                (name, session)
            })
            .collect()
    }

    fn instances(&self) -> Value {
        let sessions = self.sessions();
        let mut names: BTreeSet<String> = self
            .cache
            .children(&self.path("CONFIGS/PARTICIPANT"))
            .into_iter()
            .collect();
        names.extend(sessions.keys().cloned());
        let list: Vec<Value> = names
            .into_iter()
            .map(|name| {
                let config = self
                    .cache
                    .record(&self.path(&format!("CONFIGS/PARTICIPANT/{name}")))
                    .map(InstanceConfig::from);
                let operation = config
                    .as_ref()
                    .and_then(|c| c.instance_operations().pop())
                    .map(|op| op.operation.as_str().to_owned());
                let tags = config
                    .as_ref()
                    .and_then(|c| c.record().list("TAG_LIST").map(<[String]>::to_vec))
                    .unwrap_or_default();
                let pending = self
                    .cache
                    .children(&self.path(&format!("INSTANCES/{name}/MESSAGES")))
                    .len();
                let (plugins, plugin_errors) = self.plugin_status(&name);
                json!({
                    "name": name,
                    "live": sessions.contains_key(&name),
                    "session": sessions.get(&name).cloned().flatten(),
                    "configured": config.is_some(),
                    "enabled": config.as_ref().is_none_or(InstanceConfig::helix_enabled),
                    "operation": operation,
                    "tags": tags,
                    "pending": pending,
                    "plugins": plugins,
                    "plugin_errors": plugin_errors,
                })
            })
            .collect();
        json!({ "instances": list })
    }

    /// The plugin versions an instance reports running, and load errors.
    fn plugin_status(
        &self,
        instance: &str,
    ) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let mut versions = BTreeMap::new();
        let mut errors = BTreeMap::new();
        let path = self.path(&format!("PROPERTYSTORE/STRAND/STATUS/{instance}"));
        if let Some(record) = self.cache.record(&path) {
            for (plugin, fields) in &record.map_fields {
                if let Some(version) = fields.get("ACTIVE_VERSION") {
                    versions.insert(plugin.clone(), version.clone());
                }
                if let Some(error) = fields.get("LAST_ERROR") {
                    errors.insert(plugin.clone(), error.clone());
                }
            }
        }
        (versions, errors)
    }

    fn controller(&self, connected: bool) -> Value {
        let leader = self
            .cache
            .record(&self.path("CONTROLLER/LEADER"))
            .map(|record| record.id.clone());
        let status = self
            .cache
            .record(&self.path(CONTROLLER_STATUS))
            .map(|record| record_json(&record));
        json!({ "leader": leader, "status": status, "connected": connected })
    }

    fn plugins(&self) -> Value {
        let list: Vec<Value> = self
            .cache
            .child_records(&self.path("PROPERTYSTORE/STRAND/PLUGINS"))
            .into_iter()
            .map(|(name, record)| {
                json!({
                    "name": name,
                    "kind": record.simple("KIND"),
                    "active": record.simple("ACTIVE_VERSION"),
                    "versions": record.list("VERSIONS").unwrap_or_default(),
                })
            })
            .collect();
        json!({ "plugins": list })
    }

    /// A resource's document, `None` once nothing of it is left.
    fn resource(&self, resource: &str) -> Option<Value> {
        let ideal = self
            .cache
            .record(&self.path(&format!("IDEALSTATES/{resource}")));
        let mut views = serde_json::Map::new();
        if let Some(view) = self
            .cache
            .record(&self.path(&format!("EXTERNALVIEW/{resource}")))
        {
            views.insert("EXTERNALVIEW".into(), partition_map(&view));
        }
        for kind in self.cache.children(&self.path("CUSTOMIZEDVIEW")) {
            let path = self.path(&format!("CUSTOMIZEDVIEW/{kind}/{resource}"));
            if let Some(view) = self.cache.record(&path) {
                views.insert(kind, partition_map(&view));
            }
        }
        if ideal.is_none() && views.is_empty() {
            return None;
        }
        let errors = self.errors(resource);
        let pending = self
            .message_resources
            .values()
            .filter(|r| r.as_str() == resource)
            .count();
        let summary = ideal.map(|record| {
            json!({
                "state_model": record.simple("STATE_MODEL_DEF_REF"),
                "rebalance_mode": record.simple("REBALANCE_MODE"),
                "partitions": record.simple("NUM_PARTITIONS"),
                "replicas": record.simple("REPLICAS"),
            })
        });
        Some(json!({
            "resource": resource,
            "ideal_state": summary,
            "views": views,
            "errors": errors,
            "pending_messages": pending,
        }))
    }

    /// Partitions of `resource` in ERROR on a live instance's current
    /// session, with the INFO the participant recorded.
    fn errors(&self, resource: &str) -> Vec<Value> {
        let mut errors = Vec::new();
        for (instance, session) in self.sessions() {
            let Some(session) = session else { continue };
            let path = self.path(&format!(
                "INSTANCES/{instance}/CURRENTSTATES/{session}/{resource}"
            ));
            let Some(record) = self.cache.record(&path) else {
                continue;
            };
            let state = CurrentState::from(record);
            for (partition, current) in state.partition_states() {
                if current == "ERROR" {
                    errors.push(json!({
                        "partition": partition,
                        "instance": instance,
                        "info": state.info(partition),
                    }));
                }
            }
        }
        errors
    }
}

/// A view record as partition → instance → state.
fn partition_map(view: &ZNRecord) -> Value {
    let map: serde_json::Map<String, Value> = view
        .map_fields
        .iter()
        .map(|(partition, states)| {
            let states: serde_json::Map<String, Value> = states
                .iter()
                .map(|(instance, state)| (instance.clone(), Value::String(state.clone())))
                .collect();
            (partition.clone(), Value::Object(states))
        })
        .collect();
    Value::Object(map)
}

/// A record's simple and map fields as JSON.
fn record_json(record: &ZNRecord) -> Value {
    let strings = |fields: &strand_model::FieldMap| -> Value {
        Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    };
    let maps: serde_json::Map<String, Value> = record
        .map_fields
        .iter()
        .map(|(k, fields)| (k.clone(), strings(fields)))
        .collect();
    json!({
        "simpleFields": strings(&record.simple_fields),
        "mapFields": maps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_mark_only_the_topics_they_touch() {
        let root = "/C";
        assert_eq!(classify(root, "/C/EXTERNALVIEW/db"), Node::Resource("db"));
        assert_eq!(
            classify(root, "/C/CUSTOMIZEDVIEW/DEPLOY/db"),
            Node::Resource("db")
        );
        assert_eq!(
            classify(root, "/C/INSTANCES/h_1/CURRENTSTATES/s1/db"),
            Node::Resource("db")
        );
        assert_eq!(
            classify(root, "/C/INSTANCES/h_1/MESSAGES/m1"),
            Node::Message { instance: "h_1" }
        );
        assert_eq!(classify(root, "/C/LIVEINSTANCES/h_1"), Node::LiveInstance);
        assert_eq!(classify(root, "/C/CONFIGS/PARTICIPANT/h_1"), Node::Instance);
        assert_eq!(
            classify(root, "/C/PROPERTYSTORE/STRAND/STATUS/h_1"),
            Node::Instance
        );
        assert_eq!(classify(root, "/C/CONTROLLER/LEADER"), Node::Controller);
        assert_eq!(
            classify(root, "/C/PROPERTYSTORE/STRAND/CONTROLLER"),
            Node::Controller
        );
        assert_eq!(classify(root, "/C/CURRENTSTATES"), Node::Other);
        assert_eq!(classify(root, "/CX/EXTERNALVIEW/db"), Node::Other);
    }

    #[test]
    fn bulk_and_bookkeeping_are_skipped_wherever_they_are() {
        let skipped = |path| is_skipped("/C", path);
        for path in [
            "/C/INSTANCES/h_1/STATUSUPDATES",
            "/C/INSTANCES/h_9/STATUSUPDATES/s/db/p",
            "/C/INSTANCES/h_1/ERRORS",
            "/C/INSTANCES/h_1/CUSTOMIZEDSTATES/DEPLOY/db",
            "/C/CONTROLLER/STATUSUPDATES",
            "/C/CONTROLLER/HISTORY",
            "/C/PROPERTYSTORE/STRAND/ARTEFACTS/ab",
            "/C/PROPERTYSTORE/app",
            "/C/STATEMODELDEFS/MasterSlave",
            "/C/CONFIGS/RESOURCE/db",
        ] {
            assert!(skipped(path), "{path}");
        }
        for path in [
            "/C",
            "/C/INSTANCES",
            "/C/INSTANCES/h_1",
            "/C/INSTANCES/h_1/MESSAGES/m",
            "/C/INSTANCES/h_1/CURRENTSTATES/s/db",
            "/C/CONTROLLER",
            "/C/CONTROLLER/LEADER",
            "/C/PROPERTYSTORE",
            "/C/PROPERTYSTORE/STRAND",
            "/C/PROPERTYSTORE/STRAND/STATUS/h_1",
            "/C/PROPERTYSTORE/STRAND/CONTROLLER",
            "/C/CONFIGS",
            "/C/CONFIGS/PARTICIPANT/h_1",
            "/C/EXTERNALVIEW/db",
        ] {
            assert!(!skipped(path), "{path}");
        }
    }

    #[test]
    fn a_view_record_becomes_a_partition_map() {
        let mut view = ZNRecord::new("db");
        view.map_mut("db_0").insert("h_1".into(), "MASTER".into());
        view.map_mut("db_0").insert("h_2".into(), "SLAVE".into());
        assert_eq!(
            partition_map(&view),
            json!({"db_0": {"h_1": "MASTER", "h_2": "SLAVE"}})
        );
    }
}
