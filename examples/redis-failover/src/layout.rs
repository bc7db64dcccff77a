//! The shape of the example cluster: three nodes named `127.0.0.1_<P>`,
//! each running one redis-server per partition at `P + 1 + k` (partition
//! `redis_<k>`; the plugin's `REDIS_PORT_OFFSET` is 1), on loopback ports
//! found free when the run starts.

use std::net::{Ipv4Addr, TcpListener};

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
    /// free now.
    ///
    /// # Errors
    /// No free block of ports was found.
    pub fn find(partitions: u32) -> Result<Self> {
        let width = u16::try_from(partitions + 1)?;
        let mut helix_ports = Vec::new();
        for _ in 0..200 {
            if helix_ports.len() == REPLICAS {
                break;
            }
            let base = fastrand::u16(20_000..60_000);
            let block = base..base + width;
            let clashes = helix_ports
                .iter()
                .any(|&p: &u16| block.contains(&p) || (p..p + width).contains(&base));
            if !clashes && block.clone().all(port_is_free) {
                helix_ports.push(base);
            }
        }
        if helix_ports.len() < REPLICAS {
            bail!("no free block of {width} loopback ports found for every node");
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

fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}
