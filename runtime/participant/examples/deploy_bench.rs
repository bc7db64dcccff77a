//! Measures deploy-to-live: from the start of `PluginStore::deploy` until
//! all three participants report the new version active (their status
//! records, watched with a `TreeCache`, so no polling delay is added).
//!
//! Three participants, each with its own plugin host and compiled-artefact
//! cache (as three processes would have), take MasterSlave from the
//! cluster. Rounds alternate between `master-slave` 0.1.0 and
//! `master-slave-next` 0.2.0; the first deployment of 0.2.0 compiles it on
//! every participant ("cold"), later ones load the cached compiled form
//! ("warm"). A last round deploys a 16 MiB component (0.2.0 padded with a
//! custom section, the size of a Python or JavaScript component).
//!
//! `cargo run -p strand-participant --example deploy_bench [ROUNDS]`
//! (starts its own ZooKeeper; prints JSON).

use std::sync::Arc;
use std::time::{Duration, Instant};

use strand_admin::Admin;
use strand_devcluster::plugins::{names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_participant::{ClusterPlugins, ClusterPluginsConfig, Participant, ParticipantConfig};
use strand_plugin_host::{HostConfig, HostInspector, PluginHost, PluginRegistry};
use strand_plugin_store::{DeployOptions, PluginStore, StorePaths, sha256_hex, status};
use strand_zk::{TreeCache, ZkConfig};

const CLUSTER: &str = "BENCH";
const INSTANCES: [&str; 3] = ["localhost_1", "localhost_2", "localhost_3"];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let server = LocalZk::start()?;
    let connect = server.connect_string();
    let admin = Admin::connect(&connect).await?;
    admin.add_cluster(CLUSTER).await?;
    for i in INSTANCES {
        admin.add_instance(CLUSTER, i).await?;
    }
    let store = PluginStore::new(admin.zk().clone(), CLUSTER)
        .with_inspector(HostInspector::lazy(HostConfig::default()));
    let v1 = std::fs::read(plugin_path(names::MASTER_SLAVE)?)?;
    let v2 = std::fs::read(plugin_path(names::MASTER_SLAVE_NEXT)?)?;
    store.deploy(&v1, &DeployOptions::default()).await?;

    let caches = tempfile::tempdir()?;
    let mut nodes = Vec::new();
    for instance in INSTANCES {
        let host = PluginHost::new(HostConfig {
            cache_dir: Some(caches.path().join(instance)),
            ..HostConfig::default()
        })?;
        let registry = PluginRegistry::new(host);
        let zk = ZkConfig::new(connect.clone());
        let plugins = ClusterPlugins::start(
            ClusterPluginsConfig {
                zk: zk.clone(),
                cluster: CLUSTER.into(),
                instances: vec![instance.into()],
            },
            Arc::clone(&registry),
        )
        .await?;
        let mut config = ParticipantConfig::new(zk, CLUSTER, instance);
        config.plugin_updates = Some(plugins.updates());
        let participant = Participant::start(config, registry).await?;
        nodes.push((participant, plugins));
    }
    let paths = StorePaths::new(CLUSTER);
    admin.zk().create_all(&paths.statuses()).await?;
    let statuses = TreeCache::start(admin.zk().clone(), &paths.statuses()).await?;

    let mut cold = None;
    let mut warm_live = Vec::new();
    let mut warm_call = Vec::new();
    for round in 0..rounds * 2 {
        let bytes = if round % 2 == 0 { &v2 } else { &v1 };
        let (call, live) = deploy_to_live(&store, &statuses, &paths, bytes).await?;
        if round == 0 {
            cold = Some((call, live));
        } else {
            warm_call.push(call);
            warm_live.push(live);
        }
    }
    let big = padded(&v2, 16 * 1024 * 1024);
    let opts = DeployOptions {
        name: Some("MasterSlave".into()),
        force: true, // same version string, other bytes
        ..DeployOptions::default()
    };
    let started = Instant::now();
    store.deploy(&big, &opts).await?;
    let big_call = started.elapsed();
    wait_all(&statuses, &paths, &sha256_hex(&big)).await?;
    let big_live = started.elapsed();

    warm_live.sort();
    warm_call.sort();
    let ms = |d: Duration| (d.as_secs_f64() * 1e4).round() / 10.0;
    let (cold_call, cold_live) = cold.unwrap_or_default();
    println!(
        "{}",
        serde_json::json!({
            "participants": INSTANCES.len(),
            "component_bytes": v2.len(),
            "cold_deploy_call_ms": ms(cold_call),
            "cold_deploy_to_live_ms": ms(cold_live),
            "warm_rounds": warm_live.len(),
            "warm_deploy_call_ms_median": ms(warm_call[warm_call.len() / 2]),
            "warm_deploy_to_live_ms_median": ms(warm_live[warm_live.len() / 2]),
            "warm_deploy_to_live_ms_max": ms(warm_live[warm_live.len() - 1]),
            "big_component_bytes": big.len(),
            "big_deploy_call_ms": ms(big_call),
            "big_deploy_to_live_ms": ms(big_live),
        })
    );
    for (participant, plugins) in nodes {
        participant.shutdown().await;
        plugins.shutdown().await;
    }
    Ok(())
}

/// Deploys `bytes`; returns how long the call took and how long until all
/// three participants reported it active.
async fn deploy_to_live(
    store: &PluginStore,
    statuses: &TreeCache,
    paths: &StorePaths,
    bytes: &[u8],
) -> anyhow::Result<(Duration, Duration)> {
    let started = Instant::now();
    store.deploy(bytes, &DeployOptions::default()).await?;
    let call = started.elapsed();
    wait_all(statuses, paths, &sha256_hex(bytes)).await?;
    Ok((call, started.elapsed()))
}

/// Waits (on the cache's change notifications) until every instance runs `sha`.
async fn wait_all(statuses: &TreeCache, paths: &StorePaths, sha: &str) -> anyhow::Result<()> {
    let mut generation = statuses.generation();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let live = INSTANCES.iter().all(|i| {
            statuses.record(&paths.status(i)).is_some_and(|r| {
                status::parse(&r).iter().any(|(name, s)| {
                    name == "MasterSlave" && s.active_sha256.as_deref() == Some(sha)
                })
            })
        });
        if live {
            return Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        anyhow::ensure!(!left.is_zero(), "participants did not report {sha}");
        let _ = tokio::time::timeout(left, generation.changed()).await;
    }
}

/// `component` with a custom section of `extra` bytes appended.
fn padded(component: &[u8], extra: usize) -> Vec<u8> {
    let name = b"padding";
    let mut payload = leb128(name.len());
    payload.extend_from_slice(name);
    payload.extend(std::iter::repeat_n(0x5a_u8, extra));
    let mut out = component.to_vec();
    out.push(0);
    out.extend(leb128(payload.len()));
    out.extend(payload);
    out
}

fn leb128(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = u8::try_from(n & 0x7f).unwrap_or(0);
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}
