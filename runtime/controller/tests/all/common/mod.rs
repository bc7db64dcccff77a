//! Shared harness: a private ZooKeeper with a cluster set up through
//! `strand-admin`, simulated participants, and polling helpers.
//!
//! A [`SimParticipant`] does on ZooKeeper exactly what a participant does
//! for the controller to see: its LiveInstance ephemeral, current states
//! under `CURRENTSTATES/<session>`, messages taken from its MESSAGES
//! folder (current state updated first, then the message deleted).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use strand_admin::Admin;
use strand_devcluster::zookeeper::LocalZk;
use strand_model::records::DROPPED;
use strand_model::{
    CurrentState, ExternalView, LiveInstance, Message, MessageType, PropertyPaths, SessionId,
    ZNRecord,
};
use strand_zk::{Accessor, CreateKind, NodeEvent, Update, Zk, ZkConfig};
use tokio::sync::Mutex;

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Generous deadline for anything to happen.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub const CLUSTER: &str = "TEST";

/// Logs to the test output when `RUST_LOG` is set.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

pub fn zk_config(server: &LocalZk) -> ZkConfig {
    ZkConfig::new(server.connect_string()).with_session_timeout(Duration::from_secs(4))
}

pub async fn connect(server: &LocalZk) -> Zk {
    Zk::connect(zk_config(server))
        .await
        .expect("connect to the private ZooKeeper")
}

/// A private ZooKeeper with cluster [`CLUSTER`] and `instances`
/// instances `host_12000`, `host_12001`, … added.
pub async fn cluster(instances: usize) -> (LocalZk, Admin) {
    init_logging();
    let server = LocalZk::start().expect("start ZooKeeper");
    let admin = Admin::new(connect(&server).await);
    admin.add_cluster(CLUSTER).await.expect("add cluster");
    for i in 0..instances {
        admin
            .add_instance(CLUSTER, &format!("host_{}", 12000 + i))
            .await
            .expect("add instance");
    }
    (server, admin)
}

pub fn paths() -> PropertyPaths {
    PropertyPaths::new(CLUSTER)
}

/// Polls `check` until it returns `Some` or [`DEADLINE`] passes.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The record at `path`, if any.
pub async fn record(zk: &Zk, path: &str) -> Option<(ZNRecord, strand_zk::Stat)> {
    let (data, stat) = zk.get(path).await.ok()??;
    Some((ZNRecord::from_bytes(&data).ok()??, stat))
}

/// Partition → instance → state of a resource's external view.
pub type ViewMap = BTreeMap<String, BTreeMap<String, String>>;

pub async fn external_view(zk: &Zk, resource: &str) -> Option<ViewMap> {
    let (record, _) = record(zk, &paths().external_view(resource)).await?;
    let view = ExternalView::from(record);
    Some(
        view.partitions()
            .map(|p| {
                let map = view
                    .state_map(p)
                    .map(|m| m.iter().map(|(i, s)| (i.clone(), s.clone())).collect())
                    .unwrap_or_default();
                (p.to_owned(), map)
            })
            .collect(),
    )
}

/// Waits until the external view of `resource` satisfies `check`.
pub async fn wait_view(
    zk: &Zk,
    resource: &str,
    what: &str,
    check: impl Fn(&ViewMap) -> bool,
) -> ViewMap {
    eventually(what, || async {
        external_view(zk, resource).await.filter(|v| check(v))
    })
    .await
}

/// Counts of each state in one partition.
pub fn counts(map: &BTreeMap<String, String>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for state in map.values() {
        *out.entry(state.clone()).or_default() += 1;
    }
    out
}

/// Every partition has exactly these state counts.
pub fn every_partition(view: &ViewMap, partitions: usize, want: &[(&str, usize)]) -> bool {
    view.len() == partitions
        && view.values().all(|m| {
            let c = counts(m);
            c.len() == want.len() && want.iter().all(|(s, n)| c.get(*s) == Some(n))
        })
}

/// One applied message: (resource, partition, from, to).
pub type Applied = (String, String, String, String);

/// A participant simulated on ZooKeeper (see the module docs).
pub struct SimParticipant {
    pub name: String,
    pub zk: Zk,
    task: tokio::task::JoinHandle<()>,
    /// Messages applied, in order: (resource, partition, from, to).
    pub applied: Arc<Mutex<Vec<Applied>>>,
}

impl SimParticipant {
    /// Joins the cluster and starts serving messages.
    pub async fn start(server: &LocalZk, name: &str) -> Self {
        Self::start_on(&zk_config(server), name).await
    }

    /// Joins through any ZooKeeper.
    pub async fn start_on(config: &ZkConfig, name: &str) -> Self {
        let zk = Zk::connect(config.clone())
            .await
            .expect("connect a participant");
        let paths = paths();
        let session = SessionId::parse(&zk.session_id()).expect("session id");
        zk.create_all(&paths.current_states(name, session))
            .await
            .expect("current-state dir");
        let live = LiveInstance::new(name, session, "2.0.1", "1@test");
        zk.create(
            &paths.live_instance(name),
            &live.to_bytes().expect("live instance bytes"),
            CreateKind::Ephemeral,
        )
        .await
        .expect("create live instance");
        let applied = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(serve(
            zk.clone(),
            name.to_owned(),
            session,
            Arc::clone(&applied),
        ));
        Self {
            name: name.to_owned(),
            zk,
            task,
            applied,
        }
    }

    /// Stops serving and closes the session (a graceful stop: LiveInstance
    /// removed by deleting it, then the session dropped).
    pub async fn stop(self) {
        self.task.abort();
        let _ = self
            .zk
            .delete(&paths().live_instance(&self.name), None)
            .await;
    }

    /// Kills it: the session expires on the server.
    pub async fn crash(self) {
        self.task.abort();
        self.zk.expire_session().await.expect("expire session");
    }
}

async fn serve(zk: Zk, name: String, session: SessionId, applied: Arc<Mutex<Vec<Applied>>>) {
    let paths = paths();
    let dir = paths.messages(&name);
    // zookeeper-client 0.11.2 does not re-register persistent watches
    // after a reconnect: watch anew each time.
    loop {
        let Ok(events) = zk.watch_subtree(&dir).await else {
            return;
        };
        let mut events = std::pin::pin!(events);
        // Anything already there, then whatever arrives.
        let mut backlog: Vec<String> = zk
            .children(&dir)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|c| format!("{dir}/{c}"))
            .collect();
        loop {
            for path in std::mem::take(&mut backlog) {
                handle(&zk, &paths, &name, session, &path, &applied).await;
            }
            match events.next().await {
                Some(NodeEvent::Created(path)) if path != dir => backlog.push(path),
                Some(NodeEvent::Reconnected) => break,
                Some(NodeEvent::SessionEnded(_)) | None => return,
                Some(_) => {}
            }
        }
    }
}

async fn handle(
    zk: &Zk,
    paths: &PropertyPaths,
    name: &str,
    session: SessionId,
    path: &str,
    applied: &Mutex<Vec<Applied>>,
) {
    let Some((record, _)) = record(zk, path).await else {
        return;
    };
    let message = Message::from(record);
    if message.msg_type() != Some(MessageType::StateTransition) || !message.is_for_session(session)
    {
        let _ = zk.delete(path, None).await;
        return;
    }
    let (Some(resource), Some(partition), Some(from), Some(to)) = (
        message.resource_name().map(str::to_owned),
        message.partition_name().map(str::to_owned),
        message.from_state().map(str::to_owned),
        message.to_state().map(str::to_owned),
    ) else {
        return;
    };
    let model = message.state_model_def().unwrap_or_default().to_owned();
    let accessor = Accessor::new(zk.clone());
    let cs_path = paths.current_state(name, session, &resource);
    let result = accessor
        .update(&cs_path, true, |current| {
            let mut cs = current
                .map(CurrentState::from)
                .unwrap_or_else(|| CurrentState::new(&resource, session, &model, "DEFAULT"));
            if to == DROPPED {
                cs.remove_partition(&partition);
            } else {
                cs.set_state(&partition, &to);
            }
            Update::Write(cs.into_record())
        })
        .await;
    if result.is_err() {
        return;
    }
    applied.lock().await.push((resource, partition, from, to));
    let _ = zk.delete(path, None).await;
}

/// Watches every current state of live instances' current sessions and
/// records any moment a partition has more than one replica in `state`
/// (e.g. two MASTERs). Checks after every cache change.
pub struct DoubleTopWatch {
    violations: Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl DoubleTopWatch {
    pub async fn start(server: &LocalZk, state: &'static str) -> Self {
        let zk = connect(server).await;
        let cache = strand_zk::TreeCache::start(zk, &paths().cluster())
            .await
            .expect("watcher cache");
        let violations = Arc::new(std::sync::Mutex::new(Vec::new()));
        let found = Arc::clone(&violations);
        let task = tokio::spawn(async move {
            let mut generation = cache.generation();
            loop {
                check(&cache, state, &found);
                if generation.changed().await.is_err() {
                    return;
                }
            }
        });
        Self { violations, task }
    }

    /// Panics if a violation was seen.
    pub fn assert_clean(self) {
        self.task.abort();
        let found = self
            .violations
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default();
        assert!(found.is_empty(), "double top states seen: {found:?}");
    }
}

fn check(cache: &strand_zk::TreeCache, state: &str, found: &std::sync::Mutex<Vec<String>>) {
    let paths = paths();
    let mut holders: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for instance in cache.children(&paths.live_instances()) {
        let Some(session) = cache
            .get(&paths.live_instance(&instance))
            .and_then(|n| n.ephemeral_owner())
        else {
            continue;
        };
        for (resource, record) in cache.child_records(&paths.current_states(&instance, &session)) {
            let cs = CurrentState::from(Arc::clone(&record));
            for (partition, s) in cs.partition_states() {
                if s == state {
                    holders
                        .entry((resource.clone(), partition.to_owned()))
                        .or_default()
                        .push(instance.clone());
                }
            }
        }
    }
    for ((resource, partition), instances) in holders {
        if instances.len() > 1
            && let Ok(mut v) = found.lock()
        {
            v.push(format!("{resource}/{partition}: {instances:?}"));
        }
    }
}
