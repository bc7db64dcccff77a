//! What a pipeline run costs after a small change in a big cluster: the
//! controller's model and decisions (no ZooKeeper: a detached cache
//! holding the records) for 10 MasterSlave resources of 1,000 partitions
//! × 3 replicas on 10 live instances, converged. Each iteration changes one
//! thing and runs the compute half of a pipeline run over it, exactly as
//! the leader does after a cache event:
//!
//! * `current_state_one_partition`: one replica's current state flips
//!   (SLAVE → OFFLINE and back) — the controller re-reads that record and
//!   decides that partition (and plans its transition);
//! * `ideal_state_one_partition`: one partition's preference list rotates
//!   and back;
//! * `full_run`: everything is recomputed (what every run cost before runs
//!   were incremental, and what a periodic run costs now).
//!
//! ```text
//! cargo bench -p strand-controller --bench incremental
//! ```

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use strand_controller::bench::Incremental;
use strand_model::{
    CurrentState, IdealState, InstanceConfig, LiveInstance, PropertyPaths, RebalanceMode, Replicas,
    SessionId, builtin,
};
use strand_zk::TreeCache;

const CLUSTER: &str = "BENCH";
const INSTANCES: usize = 10;
const RESOURCES: usize = 10;
const PARTITIONS: usize = 1000;
const REPLICAS: usize = 3;

fn session(i: usize) -> SessionId {
    SessionId(0x100 + i as u64)
}

fn instance(i: usize) -> String {
    format!("host_{i}")
}

fn bytes(record: &strand_model::ZNRecord) -> Vec<u8> {
    record.to_bytes().unwrap_or_default()
}

/// The preference list of partition `p`: three instances in a row.
fn list(p: usize, shift: usize) -> Vec<String> {
    (0..REPLICAS)
        .map(|r| instance((p + r + shift) % INSTANCES))
        .collect()
}

fn ideal_state(resource: &str, rotated: Option<usize>) -> IdealState {
    let mut ideal = IdealState::for_new_resource(
        resource,
        PARTITIONS as i32,
        "MasterSlave",
        RebalanceMode::SemiAuto,
        "DEFAULT",
    );
    ideal.set_replicas(Replicas::Count(REPLICAS as i32));
    for p in 0..PARTITIONS {
        let mut l = list(p, 0);
        if rotated == Some(p) {
            l.rotate_left(1);
        }
        ideal.set_preference_list(&format!("{resource}_{p}"), l);
    }
    ideal
}

/// The current state of `instance` for `resource` in a converged cluster;
/// `offline` flips one partition to OFFLINE.
fn current_state(resource: &str, i: usize, offline: Option<usize>) -> CurrentState {
    let mut cs = CurrentState::new(resource, session(i), "MasterSlave", "DEFAULT");
    for p in 0..PARTITIONS {
        let l = list(p, 0);
        let Some(position) = l.iter().position(|n| *n == instance(i)) else {
            continue;
        };
        let state = if offline == Some(p) {
            "OFFLINE"
        } else if position == 0 {
            "MASTER"
        } else {
            "SLAVE"
        };
        cs.set_state(&format!("{resource}_{p}"), state);
    }
    cs
}

fn cluster() -> TreeCache {
    let paths = PropertyPaths::new(CLUSTER);
    let cache = TreeCache::detached(&paths.cluster());
    for model in builtin::all() {
        cache.set_detached(&paths.state_model_def(model.id()), bytes(model.record()), 0);
    }
    for i in 0..INSTANCES {
        let name = instance(i);
        cache.set_detached(
            &paths.instance_config(&name),
            bytes(InstanceConfig::new(name.clone()).record()),
            0,
        );
        let live = LiveInstance::new(&name, session(i), "2.0.1-bench", "bench@localhost");
        cache.set_detached(
            &paths.live_instance(&name),
            bytes(live.record()),
            i64::try_from(session(i).0).unwrap_or(0),
        );
    }
    for r in 0..RESOURCES {
        let resource = format!("db{r}");
        cache.set_detached(
            &paths.ideal_state(&resource),
            bytes(ideal_state(&resource, None).record()),
            0,
        );
        for i in 0..INSTANCES {
            cache.set_detached(
                &paths.current_state(&instance(i), session(i), &resource),
                bytes(current_state(&resource, i, None).record()),
                0,
            );
        }
    }
    cache
}

fn bench(c: &mut Criterion) {
    let paths = PropertyPaths::new(CLUSTER);
    let cache = cluster();
    let mut incremental = Incremental::new(cache.clone(), CLUSTER);
    let mut group = c.benchmark_group("controller_10k_partitions");
    group.sample_size(20);

    let cs_path = paths.current_state(&instance(0), session(0), "db0");
    let flipped = bytes(current_state("db0", 0, Some(0)).record());
    let converged = bytes(current_state("db0", 0, None).record());
    let mut flip = false;
    group.bench_function("current_state_one_partition", |b| {
        b.iter(|| {
            flip = !flip;
            let data = if flip { &flipped } else { &converged };
            cache.set_detached(&cs_path, data.clone(), 0);
            black_box(incremental.step())
        });
    });

    let is_path = paths.ideal_state("db0");
    let rotated = bytes(ideal_state("db0", Some(7)).record());
    let original = bytes(ideal_state("db0", None).record());
    let mut flip = false;
    group.bench_function("ideal_state_one_partition", |b| {
        b.iter(|| {
            flip = !flip;
            let data = if flip { &rotated } else { &original };
            cache.set_detached(&is_path, data.clone(), 0);
            black_box(incremental.step())
        });
    });

    let config_path = paths.instance_config(&instance(0));
    let config = bytes(InstanceConfig::new(instance(0)).record());
    group.bench_function("full_run", |b| {
        b.iter(|| {
            // An instance-config change marks everything.
            cache.set_detached(&config_path, config.clone(), 0);
            black_box(incremental.step())
        });
    });
    group.finish();

    // What each kind of step decides, for the reader of the figures.
    cache.set_detached(&cs_path, flipped, 0);
    eprintln!("one current-state change decides {:?}", incremental.step());
    cache.set_detached(&cs_path, converged, 0);
    incremental.step();
    cache.set_detached(&config_path, config, 0);
    eprintln!("an instance-config change decides {:?}", incremental.step());
}

criterion_group!(benches, bench);
criterion_main!(benches);
