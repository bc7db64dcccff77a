//! The Redis calls the example makes from outside the cluster (the
//! `redis` crate, sync API): every call has a short timeout, and a server
//! that does not answer is reported as such, never waited for.

use std::time::Duration;

use anyhow::{Context, Result};

/// How long any one call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(500);

/// A connection to the redis-server on loopback `port`.
///
/// # Errors
/// It does not accept connections.
pub fn connect(port: u16) -> Result<redis::Connection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .with_context(|| format!("redis on port {port}"))?;
    let con = client
        .get_connection_with_timeout(CALL_TIMEOUT)
        .with_context(|| format!("connecting to redis on port {port}"))?;
    con.set_read_timeout(Some(CALL_TIMEOUT))?;
    con.set_write_timeout(Some(CALL_TIMEOUT))?;
    Ok(con)
}

/// What `ROLE` says a server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A master (accepts writes).
    Master,
    /// A replica of `HOST:PORT`.
    Replica(String),
    /// It did not answer.
    Down,
}

/// The server's role.
pub fn role(con: &mut redis::Connection) -> Role {
    let reply: redis::RedisResult<redis::Value> = redis::cmd("ROLE").query(con);
    let Ok(redis::Value::Array(items)) = reply else {
        return Role::Down;
    };
    let text = |v: &redis::Value| match v {
        redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        redis::Value::SimpleString(s) => s.clone(),
        redis::Value::Int(n) => n.to_string(),
        _ => String::new(),
    };
    match items.first().map(text).as_deref() {
        Some("master") => Role::Master,
        Some("slave") => Role::Replica(format!(
            "{}:{}",
            items.get(1).map(text).unwrap_or_default(),
            items.get(2).map(text).unwrap_or_default()
        )),
        _ => Role::Down,
    }
}

/// The server's process id (`INFO server`), to kill it.
///
/// # Errors
/// It does not answer, or the field is missing.
pub fn pid(port: u16) -> Result<u32> {
    let mut con = connect(port)?;
    let info: String = redis::cmd("INFO").arg("server").query(&mut con)?;
    info.lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .and_then(|p| p.trim().parse().ok())
        .with_context(|| format!("redis on port {port}: no process_id in INFO"))
}

/// Writes the probe key: `Ok` when the server accepted a write, else its
/// error (`READONLY`, `NOREPLICAS`, a closed connection, …).
///
/// # Errors
/// The server refused or did not answer.
pub fn probe_write(con: &mut redis::Connection, value: u64) -> Result<()> {
    redis::cmd("SET")
        .arg("strand:bench:probe")
        .arg(value)
        .query::<()>(con)?;
    Ok(())
}

/// Where a server stands in replication (`INFO replication`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replication {
    /// A master.
    Master,
    /// A replica of the server on this loopback port, its link up and not
    /// syncing.
    Linked(u16),
    /// A replica without a working link (or of itself: the fence).
    Unlinked,
}

/// The server's place in replication.
///
/// # Errors
/// It does not answer, or says something else.
pub fn replication(port: u16) -> Result<Replication> {
    let mut con = connect(port)?;
    let info: String = redis::cmd("INFO").arg("replication").query(&mut con)?;
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    };
    match field("role") {
        Some("master") => Ok(Replication::Master),
        Some("slave") => {
            let linked = field("master_link_status") == Some("up")
                && field("master_sync_in_progress") == Some("0");
            match field("master_port").and_then(|p| p.parse().ok()) {
                Some(upstream) if linked && upstream != port => Ok(Replication::Linked(upstream)),
                _ => Ok(Replication::Unlinked),
            }
        }
        other => anyhow::bail!("redis on port {port}: role {other:?}"),
    }
}

/// Whether exactly one server of `ports` is a master and every other one a
/// replica of it with its link up.
pub fn one_master_followed(ports: &[u16]) -> bool {
    let masters: Vec<u16> = ports
        .iter()
        .copied()
        .filter(|&p| matches!(replication(p), Ok(Replication::Master)))
        .collect();
    let [master] = masters[..] else {
        return false;
    };
    ports
        .iter()
        .filter(|&&p| p != master)
        .all(|&p| matches!(replication(p), Ok(Replication::Linked(up)) if up == master))
}
