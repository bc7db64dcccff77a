//! The controller's per-run decisions at scale, without ZooKeeper: best
//! possible states and message planning for one MasterSlave resource of
//! 10,000 partitions × 3 replicas on 10 instances, in the middle of a
//! rebalance (a third of the replicas have a pending message).
//!
//! ```text
//! cargo bench -p strand-rebalance --bench pipeline
//! ```

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use strand_model::{
    CurrentState, IdealState, InstanceConfig, Message, RebalanceMode, Replicas, SessionId,
    StateTransitionSpec, builtin,
};
use strand_rebalance::{
    LiveParticipant, PreferenceLists, Sender, Snapshot, best_possible, messages,
};

const RESOURCE: &str = "db";
const INSTANCES: usize = 10;
const PARTITIONS: usize = 10_000;
const REPLICAS: usize = 3;

fn session(i: usize) -> SessionId {
    SessionId(0x100 + i as u64)
}

/// A cluster mid-rebalance: every replica placed by a SEMI_AUTO ideal
/// state, replicas of even partitions already SLAVE, and a pending
/// OFFLINE→SLAVE message for every replica of partitions divisible by 3.
fn snapshot() -> Snapshot {
    let mut s = Snapshot::default();
    for m in builtin::all() {
        s.models.insert(m.id().to_owned(), m.into());
    }
    let names: Vec<String> = (0..INSTANCES).map(|i| format!("host_{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        s.live.insert(
            name.clone(),
            LiveParticipant {
                session: session(i).to_string(),
            },
        );
        s.configs
            .insert(name.clone(), InstanceConfig::new(name.clone()).into());
    }
    let mut ideal = IdealState::for_new_resource(
        RESOURCE,
        PARTITIONS as i32,
        "MasterSlave",
        RebalanceMode::SemiAuto,
        "DEFAULT",
    );
    ideal.set_replicas(Replicas::Count(REPLICAS as i32));
    let mut id = 0u64;
    for p in 0..PARTITIONS {
        let partition = format!("{RESOURCE}_{p}");
        let list: Vec<String> = (0..REPLICAS)
            .map(|r| names[(p + r) % INSTANCES].clone())
            .collect();
        for instance in &list {
            let i = names.iter().position(|n| n == instance).unwrap_or(0);
            if p % 2 == 0 {
                s.current_state_mut(instance, RESOURCE, || {
                    CurrentState::new(RESOURCE, session(i), "MasterSlave", "DEFAULT")
                })
                .set_state(&partition, "SLAVE");
            } else if p % 3 == 0 {
                id += 1;
                s.pending
                    .insert(instance, &message(id, instance, session(i), &partition));
            }
        }
        ideal.set_preference_list(&partition, list);
    }
    s.ideal_states.insert(RESOURCE.to_owned(), ideal.into());
    s
}

fn message(id: u64, instance: &str, target: SessionId, partition: &str) -> Message {
    Message::state_transition(&StateTransitionSpec {
        msg_id: format!("m-{id}"),
        create_timestamp: 1,
        src_name: "controller".into(),
        src_session_id: SessionId(0xc0),
        tgt_name: instance.to_owned(),
        tgt_session_id: target,
        resource: RESOURCE.to_owned(),
        partition: partition.to_owned(),
        from_state: "OFFLINE".into(),
        to_state: "SLAVE".into(),
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
    })
}

fn bench(c: &mut Criterion) {
    let s = snapshot();
    let sender = Sender {
        name: "controller".into(),
        session: SessionId(0xc0),
    };
    let mut group = c.benchmark_group("pipeline_10k_partitions");
    group.sample_size(10);
    group.bench_function("best_possible", |b| {
        b.iter(|| best_possible::compute(black_box(&s), RESOURCE, &PreferenceLists::new()));
    });
    let best = best_possible::compute(&s, RESOURCE, &PreferenceLists::new()).unwrap_or_default();
    group.bench_function("plan_messages", |b| {
        b.iter(|| {
            let mut n = 0u64;
            let mut new_id = || {
                n += 1;
                n.to_string()
            };
            messages::plan(
                black_box(&s),
                RESOURCE,
                &best.assignment,
                &sender,
                2,
                "Bench",
                &mut new_id,
            )
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
