//! The Strand side of the comparison: a [`StrandCluster`] of one partition
//! × 3 replicas (three nodes, each a `strand participant` running its
//! redis-server), and each [`Fault`] done to the node holding the MASTER.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::probe::{Takeover, takeover};
use super::{Fault, Settings};
use crate::cluster::{STEP_TIMEOUT, StrandCluster};
use crate::layout::REPLICAS;
use crate::node::signal;
use crate::redis_io::{one_master_followed, pid};

/// The one partition the comparison uses.
const PARTITION: u32 = 0;

/// Does `fault` to the MASTER's node and times the takeover; then brings
/// the node back and waits until every replica copies from the new MASTER
/// again.
///
/// # Errors
/// No MASTER to act on, no takeover, or no return to the steady state.
pub async fn event(
    cluster: &mut StrandCluster,
    fault: Fault,
    settings: &Settings,
) -> Result<Takeover> {
    let n = cluster
        .master_of(PARTITION)
        .context("the partition has no MASTER")?;
    let ports: Vec<u16> = (0..REPLICAS)
        .map(|i| cluster.layout.redis_port(i, PARTITION))
        .collect();
    let old = ports[n];
    let candidates: Vec<u16> = ports.iter().copied().filter(|&p| p != old).collect();
    let redis_pid = pid(old)?;
    let since = Instant::now();
    match fault {
        Fault::RedisKill => signal("-KILL", &redis_pid.to_string()),
        Fault::HostKill => cluster.nodes[n].kill()?,
        Fault::PlannedStop => cluster.nodes[n].terminate(),
    }
    let planned = (fault == Fault::PlannedStop).then_some(old);
    let both_cap = settings.both_cap;
    let taken = tokio::task::spawn_blocking(move || {
        takeover(&candidates, planned, since, STEP_TIMEOUT, both_cap)
    })
    .await??;
    cluster.restart(n, fault.name()).await?;
    servers_settled(&ports).await?;
    Ok(taken)
}

/// Waits until the partition's servers are one master and two replicas
/// copying from it (after [`StrandCluster::restart`] handed the MASTER
/// back).
///
/// # Errors
/// Not within [`STEP_TIMEOUT`].
pub async fn servers_settled(ports: &[u16]) -> Result<()> {
    let ends = Instant::now() + STEP_TIMEOUT;
    loop {
        if one_master_followed(ports) {
            return Ok(());
        }
        if Instant::now() > ends {
            bail!("the servers {ports:?} did not settle on one master within {STEP_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
