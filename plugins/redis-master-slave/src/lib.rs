//! `RedisMasterSlave`: Helix's MasterSlave state model (the same states,
//! transitions and counts) keeping real Redis replication in step with it.
//! Each replica of a partition is a redis-server on its instance's host:
//!
//! | transition | what the plugin tells that redis-server |
//! |---|---|
//! | → MASTER | `REPLICAOF NO ONE` — refused (retryable) while it follows a master it has not finished copying from: promoting it would lose data |
//! | OFFLINE → SLAVE | `REPLICAOF <the partition's MASTER>`, or the fence below when there is none |
//! | MASTER → SLAVE | the write stop (below), `WAIT` until its replicas acknowledged every write it accepted (at most `REDIS_WAIT_MS`), the fence, then writes allowed again (the server is read-only by then): writers get `NOREPLICAS`, then `READONLY`, and go to the new MASTER |
//! | routing change (a new MASTER elsewhere) | `REPLICAOF <the new MASTER>`, for a replica in SLAVE |
//!
//! The fence, for a SLAVE while its partition has no MASTER (a cold start,
//! or the MASTER's own demotion), is `REPLICAOF <itself>`: a replica of
//! itself is read-only, keeps its data and copies from no one, so every
//! redis-server of a partition but its MASTER is always a read-only replica
//! and there are never two Redis masters. Once the new MASTER shows in the
//! routing table, the callback points every SLAVE at it.
//!
//! The write stop before a handoff is `CONFIG SET min-replicas-to-write
//! <more than it can have>`: the master refuses every write (`NOREPLICAS`)
//! while replication and `WAIT` keep working. `CLIENT PAUSE WRITE` would
//! stop writes too, but while clients are paused Redis 7 sends its
//! replicas no `REPLCONF GETACK`, so a `WAIT` then hears only their
//! once-a-second acknowledgements: it takes up to a second, and returns 0
//! at its timeout. `WAIT` counts the replicas that acknowledged the
//! connection's own last write, so a `PUBLISH` after the stop marks the
//! stream's end: every write the master accepted precedes it. Promotion
//! always allows writes again, so a demotion cut short leaves nothing that
//! the next →MASTER does not undo.
//!
//! Where each redis-server listens (resource config, simple fields): the
//! server of partition `<resource>_<k>` on an instance whose port is `P`
//! (`HELIX_PORT`, and the instance named `HOST_P`) listens on
//! `HOST:P + REDIS_PORT_OFFSET + k` (`REDIS_PORT_OFFSET` defaults to 1).
//! The plugin only ever connects to its own instance's servers (grant
//! `tcp:{host}:LO-HI` for them); other servers are only named to Redis.

mod resp;

use strand_plugin_sdk::{
    Level, MASTER_SLAVE_STATES, MASTER_SLAVE_TRANSITIONS, ModelDefinition, ModelSpec, Replica,
    ReplicatedStateModel, RoutingChange, StateModel, Transition, TransitionError,
    export_replicated_state_model,
};

use crate::resp::Redis;

const SPEC: ModelSpec = ModelSpec {
    name: "RedisMasterSlave",
    version: env!("CARGO_PKG_VERSION"),
    states: MASTER_SLAVE_STATES,
    transitions: MASTER_SLAVE_TRANSITIONS,
    initial: "OFFLINE",
};

/// The resource config key of the port offset.
pub const PORT_OFFSET_KEY: &str = "REDIS_PORT_OFFSET";
/// The resource config key of the demotion's wait for replicas (ms).
pub const WAIT_MS_KEY: &str = "REDIS_WAIT_MS";
const DEFAULT_WAIT_MS: u32 = 1_000;

struct RedisMasterSlave;

impl StateModel for RedisMasterSlave {
    fn definition(&self) -> ModelDefinition {
        SPEC.definition()
    }

    fn transition(&self, t: &Transition) -> Result<String, TransitionError> {
        match t.to_state() {
            "MASTER" => promote(t),
            "SLAVE" => follow(t),
            _ => SPEC.transition(t),
        }
    }
}

impl ReplicatedStateModel for RedisMasterSlave {
    fn routing_changed(&self, change: &RoutingChange) -> Result<(), String> {
        if change.own_state != "SLAVE" {
            return Ok(());
        }
        let Some(master) = change.others_in_state("MASTER").next() else {
            return Ok(());
        };
        let layout = Layout::of(&change.partition, None)?;
        let mut redis = Redis::connect(&layout.own(&change.instance)?)?;
        let upstream = layout.address_of(master)?;
        replicate(&mut redis, &upstream)?;
        strand_plugin_sdk::host::log(
            Level::Info,
            &format!(
                "{}/{}: following the new MASTER {} at {upstream}",
                change.resource, change.partition, master.instance
            ),
        );
        Ok(())
    }
}

/// Where a partition's redis-servers listen.
struct Layout {
    offset: u32,
    index: u32,
}

impl Layout {
    fn of(partition: &str, offset: Option<&str>) -> Result<Self, String> {
        let index = partition
            .rsplit_once('_')
            .and_then(|(_, k)| k.parse().ok())
            .ok_or_else(|| format!("partition {partition:?} is not named <resource>_<number>"))?;
        let offset = match offset {
            None => 1,
            Some(v) => v
                .parse()
                .map_err(|_| format!("{PORT_OFFSET_KEY}={v:?} is not a number"))?,
        };
        Ok(Self { offset, index })
    }

    fn from_transition(t: &Transition) -> Result<Self, TransitionError> {
        Self::of(t.partition(), t.config(PORT_OFFSET_KEY)).map_err(TransitionError::fatal)
    }

    fn port(&self, helix_port: u16) -> Result<u16, String> {
        u16::try_from(u32::from(helix_port) + self.offset + self.index).map_err(|_| {
            format!(
                "no redis port above {helix_port} for partition {}",
                self.index
            )
        })
    }

    /// This instance's server (the instance is named `HOST_PORT`).
    fn own(&self, instance: &str) -> Result<String, String> {
        let (host, port) = instance
            .rsplit_once('_')
            .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
            .ok_or_else(|| format!("instance {instance:?} is not named HOST_PORT"))?;
        Ok(format!("{host}:{}", self.port(port)?))
    }

    /// A peer's server, from its InstanceConfig's host and port.
    fn address_of(&self, peer: &Replica) -> Result<String, String> {
        let port = peer
            .port_number()
            .ok_or_else(|| format!("instance {} has no numeric HELIX_PORT", peer.instance))?;
        Ok(format!("{}:{}", peer.host, self.port(port)?))
    }
}

/// `REPLICAOF HOST PORT` (a no-op when it already follows that server).
fn replicate(redis: &mut Redis, upstream: &str) -> Result<(), String> {
    let (host, port) = upstream
        .rsplit_once(':')
        .ok_or_else(|| format!("bad address {upstream}"))?;
    redis.call(&["REPLICAOF", host, port]).map(drop)
}

fn connect_own(t: &Transition, layout: &Layout) -> Result<Redis, TransitionError> {
    let own = layout.own(t.instance()).map_err(TransitionError::fatal)?;
    Redis::connect(&own).map_err(TransitionError::retryable)
}

fn promote(t: &Transition) -> Result<String, TransitionError> {
    let layout = Layout::from_transition(t)?;
    let own = layout.own(t.instance()).map_err(TransitionError::fatal)?;
    let mut redis = connect_own(t, &layout)?;
    let info = redis
        .call(&["INFO", "replication"])
        .map_err(TransitionError::retryable)?;
    let info = Replication::parse(info.text().unwrap_or_default());
    if info.copying_from_elsewhere(&own) {
        return Err(TransitionError::retryable(format!(
            "redis {own} has not finished copying from its master {}; promoting it now would lose data",
            info.upstream.as_deref().unwrap_or("?")
        )));
    }
    redis
        .call(&["REPLICAOF", "NO", "ONE"])
        .map_err(TransitionError::retryable)?;
    allow_writes(&mut redis).map_err(TransitionError::retryable)?;
    Ok(format!("redis {own} is master"))
}

/// What `INFO replication` says.
#[derive(Debug, Default)]
struct Replication {
    /// `master_host:master_port` when it is a replica.
    upstream: Option<String>,
    link_up: bool,
    sync_in_progress: bool,
    /// `master_link_down_since_seconds:-1`: the link has not been up since
    /// it was told to follow its master.
    never_linked: bool,
    connected_replicas: u32,
}

impl Replication {
    fn parse(info: &str) -> Self {
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
        };
        let replica = field("role") == Some("slave");
        Self {
            upstream: replica
                .then(|| {
                    Some(format!(
                        "{}:{}",
                        field("master_host")?,
                        field("master_port")?
                    ))
                })
                .flatten(),
            link_up: field("master_link_status") == Some("up"),
            sync_in_progress: field("master_sync_in_progress") == Some("1"),
            never_linked: field("master_link_down_since_seconds") == Some("-1"),
            connected_replicas: field("connected_slaves")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
        }
    }

    /// Whether it follows another server whose copy it has not finished.
    fn copying_from_elsewhere(&self, own: &str) -> bool {
        let Some(upstream) = &self.upstream else {
            return false;
        };
        upstream != own && (self.sync_in_progress || (!self.link_up && self.never_linked))
    }
}

fn follow(t: &Transition) -> Result<String, TransitionError> {
    let layout = Layout::from_transition(t)?;
    let own = layout.own(t.instance()).map_err(TransitionError::fatal)?;
    let mut redis = connect_own(t, &layout)?;
    let demoting = t.from_state() == "MASTER";
    if demoting {
        fence_writes(t, &mut redis)?;
    }
    let (upstream, whom) = match t.peers(Some("MASTER")).first() {
        Some(master) => (
            layout.address_of(master).map_err(TransitionError::fatal)?,
            format!("the MASTER {}", master.instance),
        ),
        None => (own.clone(), "itself (no MASTER yet: read-only)".to_owned()),
    };
    replicate(&mut redis, &upstream).map_err(TransitionError::retryable)?;
    if demoting {
        allow_writes(&mut redis).map_err(TransitionError::retryable)?;
    }
    Ok(format!("redis {own} follows {whom} at {upstream}"))
}

/// More replicas than any server has: with `min-replicas-to-write` at
/// this, a master refuses every write.
const REFUSE_WRITES: &str = "2147483647";
/// The channel of the stream-end marker (nothing subscribes to it).
const HANDOFF_CHANNEL: &str = "strand:handoff";

/// Stops writes, then waits until the replicas acknowledged every write the
/// master accepted.
fn fence_writes(t: &Transition, redis: &mut Redis) -> Result<(), TransitionError> {
    let wait_ms = t
        .config(WAIT_MS_KEY)
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(DEFAULT_WAIT_MS);
    redis
        .call(&["CONFIG", "SET", "min-replicas-to-write", REFUSE_WRITES])
        .map_err(TransitionError::retryable)?;
    let info = redis
        .call(&["INFO", "replication"])
        .map_err(TransitionError::retryable)?;
    let replicas = Replication::parse(info.text().unwrap_or_default()).connected_replicas;
    if replicas == 0 {
        return Ok(());
    }
    redis
        .call(&["PUBLISH", HANDOFF_CHANNEL, t.partition()])
        .map_err(TransitionError::retryable)?;
    let acked = redis
        .call(&["WAIT", &replicas.to_string(), &wait_ms.to_string()])
        .map_err(TransitionError::retryable)?;
    let acked = match acked {
        resp::Reply::Integer(n) => n.to_string(),
        other => format!("{other:?}"),
    };
    t.log(
        Level::Info,
        &format!("{acked} of {replicas} replicas acknowledged every write before the handoff"),
    );
    Ok(())
}

/// `min-replicas-to-write 0`: the server takes writes again when it is
/// (or becomes) a master.
fn allow_writes(redis: &mut Redis) -> Result<(), String> {
    redis
        .call(&["CONFIG", "SET", "min-replicas-to-write", "0"])
        .map(drop)
}

export_replicated_state_model!(RedisMasterSlave);
