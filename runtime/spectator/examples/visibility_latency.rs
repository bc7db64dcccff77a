//! How soon a view write shows in the routing table: writes an external
//! view 200 times on a private ZooKeeper (alternating which instance is
//! MASTER) and measures from just before each write until the provider's
//! snapshot shows it. Prints the median, p90 and maximum.
//!
//! `cargo run -p strand-spectator --example visibility_latency`

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use strand_admin::Admin;
use strand_devcluster::zookeeper::LocalZk;
use strand_model::{LiveInstance, PropertyPaths, SessionId, ZNRecord};
use strand_spectator::{ProviderConfig, RoutingTableProvider};
use strand_zk::{CreateKind, ZkConfig};

const CLUSTER: &str = "LATENCY";
const ROUNDS: usize = 200;

#[tokio::main]
async fn main() -> Result<()> {
    let server = tokio::task::spawn_blocking(LocalZk::start).await??;
    let admin = Admin::connect(&server.connect_string()).await?;
    admin.add_cluster(CLUSTER).await?;
    let paths = PropertyPaths::new(CLUSTER);
    for i in ["a_1", "b_1"] {
        admin.add_instance(CLUSTER, i).await?;
        let live = LiveInstance::new(i, SessionId::from_i64(1), "bench", "1@bench");
        admin
            .zk()
            .create(
                &paths.live_instance(i),
                &live.to_bytes()?,
                CreateKind::Ephemeral,
            )
            .await?;
    }
    let provider = RoutingTableProvider::start(ProviderConfig::new(
        ZkConfig::new(server.connect_string()),
        CLUSTER,
    ))
    .await?;
    let path = paths.external_view("DB");
    let mut samples = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let (master, slave) = if round % 2 == 0 {
            ("a_1", "b_1")
        } else {
            ("b_1", "a_1")
        };
        let mut view = ZNRecord::new("DB");
        let map = view.map_mut("DB_0");
        map.insert(master.into(), "MASTER".into());
        map.insert(slave.into(), "SLAVE".into());
        let started = Instant::now();
        admin.accessor().put(&path, &view).await?;
        let seen = provider
            .wait_for(Duration::from_secs(30), |s| {
                s.instances("DB", "DB_0", "MASTER") == [master]
            })
            .await
            .context("the write never showed")?;
        samples.push(started.elapsed());
        if seen.instances("DB", "DB_0", "SLAVE") != [slave] {
            bail!("round {round}: inconsistent snapshot");
        }
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!(
        "view write -> visible in the routing table, {ROUNDS} writes: median {:.2?}, p90 {:.2?}, max {:.2?}",
        at(0.5),
        at(0.9),
        at(1.0)
    );
    Ok(())
}
