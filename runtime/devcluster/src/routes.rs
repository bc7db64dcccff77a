//! Waits on the routing table (`strand-spectator`'s change
//! notifications, never a polling loop), and the MasterSlave convergence
//! the quickstart and the benchmark wait for.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use strand_spectator::{RoutingSnapshot, RoutingTableProvider};

/// MasterSlave's top state.
pub const MASTER: &str = "MASTER";
/// MasterSlave's second state.
pub const SLAVE: &str = "SLAVE";

/// Waits on `routes`' notifications until `done` holds of a snapshot;
/// how long that took.
///
/// # Errors
/// `what` was not seen within `timeout`.
pub async fn wait_routes(
    routes: &RoutingTableProvider,
    what: &str,
    timeout: Duration,
    done: impl Fn(&RoutingSnapshot) -> bool,
) -> Result<Duration> {
    let start = Instant::now();
    match routes.wait_for(timeout, done).await {
        Some(_) => Ok(start.elapsed()),
        None => bail!("{what} not seen in the routing table within {timeout:?}"),
    }
}

/// Every one of `partitions` partitions of `resource` routes to one MASTER
/// and `replicas - 1` SLAVEs (external view).
pub fn master_slave_converged(
    snap: &RoutingSnapshot,
    resource: &str,
    partitions: u32,
    replicas: usize,
) -> bool {
    let table = snap.external_view();
    let names = table.partitions(resource);
    names.len() == partitions as usize
        && names.iter().all(|p| {
            snap.instances(resource, p, MASTER).len() == 1
                && snap.instances(resource, p, SLAVE).len() == replicas.saturating_sub(1)
        })
}
