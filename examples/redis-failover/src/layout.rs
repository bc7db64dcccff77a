//! The shape of the example cluster: three nodes named `127.0.0.1_<P>`,
//! each running one redis-server per partition at `P + 1 + k` (partition
//! `redis_<k>`; the plugin's `REDIS_PORT_OFFSET` is 1), on loopback ports
//! found free when the run starts.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener};
use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use anyhow::{Result, bail};

/// The resource's name.
pub const RESOURCE: &str = "redis";
/// The state model (the plugin's definition name).
pub const MODEL: &str = "RedisMasterSlave";
/// Replicas per partition (one per node).
pub const REPLICAS: usize = 3;

/// Where everything listens.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Partitions of the resource.
    pub partitions: u32,
    /// Each node's `HELIX_PORT`.
    pub helix_ports: Vec<u16>,
}

impl Layout {
    /// Three nodes whose ports (`P` and `P + 1 ..= P + partitions`) are all
    /// free now and reserved for this process ([`reserve_block`]).
    ///
    /// # Errors
    /// No free block of ports was found.
    pub fn find(partitions: u32) -> Result<Self> {
        let width = u16::try_from(partitions + 1)?;
        let mut helix_ports = Vec::new();
        for _ in 0..REPLICAS {
            helix_ports.push(reserve_block(width)?);
        }
        Ok(Self {
            partitions,
            helix_ports,
        })
    }

    /// The instance name of node `n`.
    pub fn instance(&self, n: usize) -> String {
        format!("127.0.0.1_{}", self.helix_ports[n])
    }

    /// Node `n`'s redis-server of partition `k`.
    pub fn redis_port(&self, n: usize, k: u32) -> u16 {
        self.helix_ports[n] + 1 + k as u16
    }

    /// Every redis port of node `n`.
    pub fn redis_ports(&self, n: usize) -> Vec<u16> {
        (0..self.partitions)
            .map(|k| self.redis_port(n, k))
            .collect()
    }

    /// The redis port of partition `k` on the node whose port is `helix_port`.
    pub fn redis_port_of(&self, helix_port: u16, k: u32) -> u16 {
        helix_port + 1 + k as u16
    }

    /// The partition name of `k`.
    pub fn partition(k: u32) -> String {
        format!("{RESOURCE}_{k}")
    }

    /// The grant (and the deployment's request) covering every node's
    /// Redis ports: on one machine every node's `{host}` is `127.0.0.1`,
    /// so a per-node range would cover the others' ports too; on real
    /// hosts `{host}` alone keeps each participant to its own node.
    pub fn tcp_rule(&self) -> String {
        let lo = self.helix_ports.iter().min().copied().unwrap_or(0) + 1;
        let hi = self
            .helix_ports
            .iter()
            .max()
            .copied()
            .unwrap_or(0)
            .saturating_add(self.partitions as u16);
        format!("tcp:{{host}}:{lo}-{hi}")
    }
}

/// Where the example's servers listen: below Linux's default range of
/// ephemeral ports (32768–60999), so that no outgoing connection's local
/// port takes a server's port while the server is down (a node restarting).
const PORTS: Range<u16> = 10_000..32_000;

/// Ports handed out in this process and never handed out again: two runs
/// in one process (two tests) must not take each other's ports while one
/// of them has a node down.
static RESERVED: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// `width` consecutive loopback ports, free now and reserved for this
/// process; the first of them.
///
/// # Errors
/// No such block was found.
pub fn reserve_block(width: u16) -> Result<u16> {
    let mut reserved = RESERVED.lock().unwrap_or_else(PoisonError::into_inner);
    for _ in 0..500 {
        let base = fastrand::u16(PORTS.start..PORTS.end - width);
        let block = base..base + width;
        if block
            .clone()
            .all(|p| !reserved.contains(&p) && port_is_free(p))
        {
            reserved.extend(block);
            return Ok(base);
        }
    }
    bail!("no free block of {width} loopback ports found in {PORTS:?}");
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}
