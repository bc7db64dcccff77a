//! Measures a participant: resident memory when idle with the three Rust
//! state models loaded, and the latency from a message's creation to its
//! current-state write for a transition that does no work.
//!
//! `cargo run --release -p strand-participant --example participant_bench`
//! (starts its own ZooKeeper; prints JSON).

use std::sync::Arc;
use std::time::{Duration, Instant};

use strand_admin::Admin;
use strand_devcluster::plugins::{names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_model::{CurrentState, Message, PropertyPaths, SessionId, StateTransitionSpec};
use strand_participant::{Participant, ParticipantConfig};
use strand_plugin_host::{HostConfig, PluginHost, PluginOptions, PluginRegistry};
use strand_zk::{Accessor, CreateKind, TreeCache, ZkConfig};

const TRANSITIONS: usize = 200;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let server = LocalZk::start()?;
    let connect = server.connect_string();
    let admin = Admin::connect(&connect).await?;
    admin.add_cluster("BENCH").await?;
    admin.add_instance("BENCH", "localhost_1").await?;
    let rss_before = rss_kib();

    let cache = tempfile::tempdir()?;
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..HostConfig::default()
    })?;
    let registry = PluginRegistry::new(host);
    for (model, plugin) in [
        ("MasterSlave", names::MASTER_SLAVE),
        ("OnlineOffline", names::ONLINE_OFFLINE),
        ("LeaderStandby", names::LEADER_STANDBY),
    ] {
        registry.install_file(model, &plugin_path(plugin)?, PluginOptions::default())?;
    }
    let config = ParticipantConfig::new(ZkConfig::new(connect.clone()), "BENCH", "localhost_1");
    let participant = Participant::start(config, Arc::clone(&registry)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await; // let it settle before measuring idle memory
    let rss_idle = rss_kib();

    // Latency: create a message, wait (on a watch) until the current
    // state shows the new state; sequential OFFLINE<->SLAVE flips.
    let session = participant.session();
    let paths = PropertyPaths::new("BENCH");
    let acc = Accessor::new(admin.zk().clone());
    let cs_path = paths.current_state("localhost_1", session, "DB");
    let root = paths.current_states("localhost_1", session);
    admin.zk().create_all(&root).await?;
    let cache = TreeCache::start(admin.zk().clone(), &root).await?;
    let mut generation = cache.generation();
    let mut latencies = Vec::with_capacity(TRANSITIONS);
    let mut state = "OFFLINE";
    for i in 0..TRANSITIONS {
        let to = if state == "OFFLINE" {
            "SLAVE"
        } else {
            "OFFLINE"
        };
        let id = format!("bench-{i}");
        let message = Message::state_transition(&StateTransitionSpec {
            msg_id: id.clone(),
            create_timestamp: 0,
            src_name: "bench".into(),
            src_session_id: SessionId(1),
            tgt_name: "localhost_1".into(),
            tgt_session_id: session,
            resource: "DB".into(),
            partition: "DB_0".into(),
            from_state: state.into(),
            to_state: to.into(),
            state_model_def: "MasterSlave".into(),
            state_model_factory_name: "DEFAULT".into(),
            current_active_replica_number: -1,
            cluster_event_name: "Bench".into(),
            retry_count: 3,
            rebalance_type: None,
            bucket_size: 0,
            resource_group_name: None,
            resource_tag: None,
            timeout: None,
        });
        let start = Instant::now();
        acc.create(
            &paths.message("localhost_1", &id),
            message.record(),
            CreateKind::Persistent,
        )
        .await?;
        loop {
            let current = cache
                .record(&cs_path)
                .map(|r| CurrentState::from(Arc::clone(&r)));
            if current.as_ref().and_then(|c| c.state("DB_0")) == Some(to) {
                break;
            }
            tokio::time::timeout(Duration::from_secs(30), generation.changed()).await??;
        }
        latencies.push(start.elapsed());
        state = to;
        // Let the message deletion land before the next one.
        while admin
            .zk()
            .exists(&paths.message("localhost_1", &id))
            .await?
            .is_some()
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p = |q: f64| ms(latencies[((latencies.len() as f64 - 1.0) * q) as usize]);
    let report = serde_json::json!({
        "rss_kib_before_participant": rss_before,
        "rss_kib_idle_participant_3_models": rss_idle,
        "transitions": TRANSITIONS,
        "message_to_current_state_ms": { "p50": p(0.5), "p90": p(0.9), "p99": p(0.99), "max": p(1.0) },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    participant.shutdown().await;
    Ok(())
}
