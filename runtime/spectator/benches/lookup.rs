//! Lookup cost of the routing table, on a cluster of 100 resources × 64
//! partitions × 3 replicas over 30 instances: a lookup straight on a
//! snapshot, and the reader's full path through the provider's atomic
//! pointer (`arc_swap` load + lookup, what `RoutingTableProvider::load`
//! does).

#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use arc_swap::ArcSwap;
use criterion::{Criterion, criterion_group, criterion_main};
use strand_model::ZNRecord;
use strand_spectator::snapshot::SnapshotInputs;
use strand_spectator::{RoutingSnapshot, ViewSource};

const RESOURCES: usize = 100;
const PARTITIONS: usize = 64;
const INSTANCES: usize = 30;

fn inputs() -> SnapshotInputs {
    let instance = |i: usize| format!("host{:02}_12000", i % INSTANCES);
    let external_views = (0..RESOURCES)
        .map(|r| {
            let name = format!("db{r}");
            let mut record = ZNRecord::new(&name);
            for p in 0..PARTITIONS {
                let partition = format!("{name}_{p}");
                let map = record.map_mut(&partition);
                map.insert(instance(r + p), "MASTER".into());
                map.insert(instance(r + p + 1), "SLAVE".into());
                map.insert(instance(r + p + 2), "SLAVE".into());
            }
            (name, Arc::new(record))
        })
        .collect();
    let instances: Vec<(String, Arc<ZNRecord>)> = (0..INSTANCES)
        .map(|i| (instance(i), Arc::new(ZNRecord::new(instance(i)))))
        .collect();
    SnapshotInputs {
        external_views,
        customized_views: Default::default(),
        live_instances: instances.clone(),
        instance_configs: instances,
    }
}

fn lookups(c: &mut Criterion) {
    let inputs = inputs();
    let snapshot = RoutingSnapshot::build(1, &[ViewSource::ExternalView], &inputs);
    assert_eq!(snapshot.instances("db42", "db42_17", "MASTER").len(), 1);
    c.bench_function("snapshot: instances(resource, partition, state)", |b| {
        b.iter(|| {
            black_box(snapshot.instances(black_box("db42"), black_box("db42_17"), "MASTER")).len()
        })
    });
    c.bench_function("snapshot: instances_in_state(resource, state)", |b| {
        b.iter(|| black_box(snapshot.instances_in_state(black_box("db42"), "SLAVE")).len())
    });
    let current = ArcSwap::from_pointee(snapshot.clone());
    c.bench_function(
        "provider path: load + instances(resource, partition, state)",
        |b| {
            b.iter(|| {
                let guard = current.load();
                black_box(guard.instances(black_box("db42"), black_box("db42_17"), "MASTER")).len()
            })
        },
    );
    c.bench_function("rebuild: whole snapshot (6,400 partitions)", |b| {
        b.iter(|| RoutingSnapshot::build(2, &[ViewSource::ExternalView], black_box(&inputs)))
    });
    // One resource's view changed (a new record), the other 99 reused.
    let mut changed = inputs_like(&inputs);
    let (name, record) = &changed.external_views[42];
    let mut edited = (**record).clone();
    edited
        .map_mut("db42_0")
        .insert("host00_12000".into(), "OFFLINE".into());
    changed.external_views[42] = (name.clone(), Arc::new(edited));
    c.bench_function("rebuild: one resource changed (64 partitions)", |b| {
        b.iter(|| {
            RoutingSnapshot::rebuild(
                Some(&snapshot),
                2,
                &[ViewSource::ExternalView],
                black_box(&changed),
            )
        })
    });
}

/// The same records (the same `Arc`s), as the provider's caches hand them out.
fn inputs_like(inputs: &SnapshotInputs) -> SnapshotInputs {
    SnapshotInputs {
        external_views: inputs.external_views.clone(),
        customized_views: inputs.customized_views.clone(),
        live_instances: inputs.live_instances.clone(),
        instance_configs: inputs.instance_configs.clone(),
    }
}

criterion_group!(benches, lookups);
criterion_main!(benches);
