//! [`Client`]: the spectator side of the code runner. It picks targets
//! from the routing table (live instances ONLINE for `CODE_RUNNER`), sends
//! each one a request, and collects the replies — reporting at once any
//! target that leaves the cluster before answering.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use strand_spectator::{ProviderConfig, RoutingSnapshot, RoutingTableProvider};
use strand_zk::{Accessor, CreateKind, TreeCache, Zk, ZkConfig};
use tracing::warn;

use crate::protocol::{ONLINE, PARTITION, Paths, RESOURCE, RunReply, RunRequest, sha256};
use strand_model::time::now_ms;

/// Where a program goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every live runner.
    All,
    /// One live runner, picked at random.
    Random,
    /// This runner.
    Instance(String),
}

impl FromStr for Target {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "all" => Self::All,
            "random" => Self::Random,
            other => Self::Instance(other.to_owned()),
        })
    }
}

/// A program run to submit.
#[derive(Debug, Clone)]
pub struct Submission<'a> {
    /// The WASI command component.
    pub program: &'a [u8],
    /// Its arguments.
    pub args: Vec<String>,
    /// Its stdin.
    pub stdin: &'a [u8],
    /// How long it may run (runners may cap it lower).
    pub deadline: Duration,
    /// Where it goes.
    pub target: Target,
}

/// The code runner's client: a routing table plus a ZooKeeper session.
pub struct Client {
    routes: RoutingTableProvider,
    zk: Zk,
    paths: Paths,
    name: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// How long past the program's deadline a reply may take to arrive.
const REPLY_GRACE: Duration = Duration::from_secs(30);

impl Client {
    /// Connects to `cluster` and reads its routing table.
    ///
    /// # Errors
    /// When ZooKeeper is unreachable or the cluster does not exist.
    pub async fn connect(zk: ZkConfig, cluster: &str) -> Result<Self> {
        let routes = RoutingTableProvider::start(ProviderConfig::new(zk.clone(), cluster))
            .await
            .with_context(|| format!("reading the routing table of {cluster}"))?;
        let zk = Zk::connect(zk).await?;
        Ok(Self {
            routes,
            zk,
            paths: Paths::new(cluster),
            name: format!("code-runner-client-{}", uuid::Uuid::new_v4().simple()),
        })
    }

    /// The routing table this client follows.
    pub fn routes(&self) -> &RoutingTableProvider {
        &self.routes
    }

    /// The live runners now, sorted.
    pub fn runners(&self) -> Vec<String> {
        live_runners(&self.routes.load())
    }

    /// Waits until `count` runners are live (or `timeout` passes) and
    /// returns them.
    pub async fn wait_for_runners(&self, count: usize, timeout: Duration) -> Vec<String> {
        self.routes
            .wait_for(timeout, |s| live_runners(s).len() >= count)
            .await
            .map(|s| live_runners(&s))
            .unwrap_or_else(|| self.runners())
    }

    /// Sends the program to its targets and returns one reply per target,
    /// sorted by instance.
    ///
    /// # Errors
    /// When there is no live runner to send to (or the named instance is
    /// not one), or ZooKeeper fails; a target that fails to run the program
    /// is a reply, not an error.
    pub async fn run(&self, submission: &Submission<'_>) -> Result<Vec<RunReply>> {
        let snapshot = self.routes.snapshot();
        let targets = pick(&snapshot, &submission.target)?;
        let accessor = Accessor::new(self.zk.clone());
        let program = sha256(submission.program);
        self.upload(&self.paths.program(&program), submission.program)
            .await?;
        let input = if submission.stdin.is_empty() {
            None
        } else {
            let sha = sha256(submission.stdin);
            self.upload(&self.paths.input(&sha), submission.stdin)
                .await?;
            Some(sha)
        };
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let replies_path = self.paths.replies(&correlation_id);
        self.zk.create_all(&replies_path).await?;
        let replies = TreeCache::start(self.zk.clone(), &replies_path).await?;
        let mut sent = Vec::new();
        for (instance, session) in &targets {
            let request = RunRequest {
                msg_id: uuid::Uuid::new_v4().to_string(),
                source: self.name.clone(),
                correlation_id: correlation_id.clone(),
                program: program.clone(),
                input: input.clone(),
                args: submission.args.clone(),
                deadline: submission.deadline,
                target_session: Some(session.clone()),
            };
            let path = self.paths.request(instance, &request.msg_id);
            self.zk.create_all(&self.paths.requests(instance)).await?;
            accessor
                .create(
                    &path,
                    request.to_message(instance, session, now_ms()).record(),
                    CreateKind::Persistent,
                )
                .await
                .with_context(|| format!("sending the program to {instance}"))?;
            sent.push((instance.clone(), path));
        }
        let collected = self
            .collect(
                &replies,
                &replies_path,
                &targets,
                submission.deadline + REPLY_GRACE,
            )
            .await;
        // Clean up: replies, and requests nobody took.
        if let Err(err) = self.zk.delete_recursive(&replies_path).await {
            warn!(path = replies_path, error = %err, "cannot remove the replies");
        }
        for (_, path) in sent {
            if let Err(err) = self.zk.delete(&path, None).await
                && !err.is_no_node()
            {
                warn!(path, error = %err, "cannot remove a request");
            }
        }
        Ok(collected)
    }

    async fn upload(&self, path: &str, bytes: &[u8]) -> Result<()> {
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.zk.create_all(parent).await?;
        }
        match self.zk.create(path, bytes, CreateKind::Persistent).await {
            Ok(_) => Ok(()),
            // Content-addressed: the same bytes are already there.
            Err(err) if err.is_node_exists() => Ok(()),
            Err(err) => Err(err).with_context(|| format!("uploading {path}")),
        }
    }

    /// Waits for a reply from every target; a target that leaves the live
    /// runners first, or stays silent past `timeout`, gets a refusal.
    async fn collect(
        &self,
        replies: &TreeCache,
        replies_path: &str,
        targets: &[(String, String)],
        timeout: Duration,
    ) -> Vec<RunReply> {
        let mut changes = replies.generation();
        let mut routes = self.routes.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut done: BTreeMap<String, RunReply> = BTreeMap::new();
        loop {
            let snapshot = routes.borrow_and_update().clone();
            for (instance, session) in targets {
                if done.contains_key(instance) {
                    continue;
                }
                let path = format!("{replies_path}/{instance}");
                if let Some(record) = replies.record(&path) {
                    let reply = RunReply::from_record(instance, &record)
                        .unwrap_or_else(|e| RunReply::refused(instance, e));
                    done.insert(instance.clone(), reply);
                } else if !still_serving(&snapshot, instance, session) {
                    done.insert(
                        instance.clone(),
                        RunReply::refused(instance, "left the cluster before replying"),
                    );
                }
            }
            if done.len() == targets.len() {
                return done.into_values().collect();
            }
            tokio::select! {
                _ = changes.changed() => {}
                _ = routes.changed() => {}
                _ = tokio::time::sleep_until(deadline) => {
                    for (instance, _) in targets {
                        done.entry(instance.clone()).or_insert_with(|| {
                            RunReply::refused(instance, format!("no reply within {timeout:?}"))
                        });
                    }
                    return done.into_values().collect();
                }
            }
        }
    }
}

/// Live instances ONLINE for the runner resource, sorted.
fn live_runners(snapshot: &RoutingSnapshot) -> Vec<String> {
    snapshot.instances(RESOURCE, PARTITION, ONLINE).to_vec()
}

/// True while `instance` is live on `session` (the routing table also
/// drops it the moment its LiveInstance goes).
fn still_serving(snapshot: &RoutingSnapshot, instance: &str, session: &str) -> bool {
    snapshot
        .live_instances()
        .get(instance)
        .and_then(|live| live.session_id_str())
        .is_some_and(|s| s == session)
}

/// The targets of a submission with their live sessions.
fn pick(snapshot: &RoutingSnapshot, target: &Target) -> Result<Vec<(String, String)>> {
    let runners = live_runners(snapshot);
    if runners.is_empty() {
        bail!("no live code runner in the cluster");
    }
    let chosen: Vec<String> = match target {
        Target::All => runners,
        Target::Random => vec![runners[fastrand::usize(..runners.len())].clone()],
        Target::Instance(name) => {
            if !runners.contains(name) {
                bail!(
                    "{name} is not a live code runner (live runners: {})",
                    runners.join(", ")
                );
            }
            vec![name.clone()]
        }
    };
    chosen
        .into_iter()
        .map(|instance| {
            let session = snapshot
                .live_instances()
                .get(&instance)
                .and_then(|live| live.session_id_str())
                .map(str::to_owned)
                .with_context(|| format!("{instance} has no session id"))?;
            Ok((instance, session))
        })
        .collect()
}
