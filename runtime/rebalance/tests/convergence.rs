//! The controller's decisions driven to convergence on a simulated
//! cluster: participants apply messages (some rounds only part of them),
//! and after every step no MasterSlave partition has two MASTERs.

use std::collections::BTreeMap;
use std::sync::Arc;

use strand_model::{
    CurrentState, IdealState, InstanceConfig, Message, RebalanceMode, Replicas, SessionId, builtin,
};
use strand_rebalance::{
    LiveParticipant, PendingTransition, PreferenceLists, Sender, Snapshot, best_possible, handoffs,
    messages, rebalance_type,
};

const RESOURCE: &str = "DB";

fn snapshot(
    instances: usize,
    mode: RebalanceMode,
    model: &str,
    partitions: usize,
    replicas: usize,
) -> Snapshot {
    let mut s = Snapshot::default();
    for m in builtin::all() {
        s.models.insert(m.id().to_owned(), m.into());
    }
    let names: Vec<String> = (0..instances).map(|i| format!("host_{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        s.live.insert(
            name.clone(),
            LiveParticipant {
                session: format!("{:x}", 0x100 + i),
            },
        );
        s.configs
            .insert(name.clone(), InstanceConfig::new(name.clone()).into());
    }
    let mut ideal =
        IdealState::for_new_resource(RESOURCE, partitions as i32, model, mode, "DEFAULT");
    ideal.set_replicas(Replicas::Count(replicas as i32));
    for p in 0..partitions {
        let list: Vec<String> = (0..replicas)
            .map(|r| names[(p + r) % instances].clone())
            .collect();
        ideal.set_preference_list(&format!("{RESOURCE}_{p}"), list);
    }
    s.ideal_states.insert(RESOURCE.to_owned(), ideal.into());
    s
}

fn sender() -> Sender {
    Sender {
        name: "controller".into(),
        session: SessionId(0xc0),
    }
}

/// Applies a message as a participant would: current state ← TO (or the
/// partition removed for DROPPED).
fn apply(s: &mut Snapshot, m: &Message) {
    let instance = m.tgt_name().expect("target").to_owned();
    let partition = m.partition_name().expect("partition").to_owned();
    let to = m.to_state().expect("to").to_owned();
    apply_to(s, &instance, &partition, &to);
}

fn apply_to(s: &mut Snapshot, instance: &str, partition: &str, to: &str) {
    let session = s.live[instance].session.clone();
    let model = s.model_name(RESOURCE).unwrap_or("MasterSlave").to_owned();
    let cs = s.current_state_mut(instance, RESOURCE, || {
        CurrentState::new(
            RESOURCE,
            SessionId::parse(&session).expect("session"),
            &model,
            "DEFAULT",
        )
    });
    if to == "DROPPED" {
        cs.remove_partition(partition);
    } else {
        cs.set_state(partition, to);
    }
}

fn assert_at_most_one_master(s: &Snapshot) {
    for p in s.partitions(RESOURCE) {
        let masters = s
            .holders(RESOURCE, &p)
            .values()
            .filter(|st| **st == "MASTER")
            .count();
        assert!(
            masters <= 1,
            "{p} has {masters} MASTERs: {:?}",
            s.holders(RESOURCE, &p)
        );
    }
}

/// One round's best possible states (their lists kept in `previous`) and
/// messages, ids numbered on from `counter`.
fn planned_round(
    s: &Snapshot,
    previous: &mut PreferenceLists,
    counter: &mut u64,
) -> strand_rebalance::MessagePlan {
    let best = best_possible::compute(s, RESOURCE, previous).expect("best possible");
    *previous = best.preference_lists.clone();
    let mut new_id = || {
        *counter += 1;
        format!("msg-{counter:06}")
    };
    messages::plan(
        s,
        RESOURCE,
        &best.assignment,
        &sender(),
        1_000,
        "Test",
        &mut new_id,
    )
}

/// Runs pipeline rounds until nothing is sent; in "partial" mode the
/// participants apply only the first pending message each round.
fn converge(s: &mut Snapshot, previous: &mut PreferenceLists, partial: bool) -> usize {
    converge_checking(s, previous, partial, None)
}

/// [`converge`], asserting before each round's messages apply that at
/// most `window_limit` partitions have no MASTER.
fn converge_checking(
    s: &mut Snapshot,
    previous: &mut PreferenceLists,
    partial: bool,
    window_limit: Option<usize>,
) -> usize {
    let mut counter = 0u64;
    let mut total = 0;
    for _round in 0..200 {
        let mut plan = planned_round(s, previous, &mut counter);
        // As the controller does after planning every resource.
        handoffs::gate(s, &mut plan.send);
        for m in &plan.send {
            let target = m.tgt_name().expect("target").to_owned();
            s.pending.insert(&target, m);
        }
        if let Some(limit) = window_limit {
            let without = s
                .partitions(RESOURCE)
                .iter()
                .filter(|p| !s.holders(RESOURCE, p).values().any(|st| *st == "MASTER"))
                .count();
            assert!(without <= limit, "{without} partitions without a MASTER");
        }
        total += plan.send.len();
        // Oldest message first (ids count up).
        let mut pending: Vec<(String, PendingTransition)> = s
            .pending
            .iter()
            .map(|(instance, m)| (instance.to_owned(), m.clone()))
            .collect();
        pending.sort_by(|a, b| a.1.msg_id().cmp(b.1.msg_id()));
        if pending.is_empty() {
            return total;
        }
        let to_apply = if partial { &pending[..1] } else { &pending[..] };
        for (target, m) in to_apply {
            let partition = m.partition_names()[0].clone();
            apply_to(s, target, &partition, m.to_state().expect("to"));
            assert_at_most_one_master(s);
            s.pending.remove(target, m.msg_id());
        }
    }
    panic!("did not converge in 200 rounds");
}

fn states(s: &Snapshot, partition: &str) -> BTreeMap<String, String> {
    s.holders(RESOURCE, partition)
        .into_iter()
        .map(|(instance, state)| (instance.to_owned(), state.to_owned()))
        .collect()
}

#[test]
fn semi_auto_master_slave_converges_fails_over_and_hands_back() {
    for partial in [false, true] {
        let mut s = snapshot(3, RebalanceMode::SemiAuto, "MasterSlave", 6, 3);
        let mut previous = PreferenceLists::new();
        converge(&mut s, &mut previous, partial);
        for p in 0..6 {
            let name = format!("{RESOURCE}_{p}");
            let st = states(&s, &name);
            let preferred = format!("host_{}", p % 3);
            assert_eq!(
                st.get(&preferred).map(String::as_str),
                Some("MASTER"),
                "{name}: {st:?}"
            );
            assert_eq!(st.values().filter(|v| *v == "SLAVE").count(), 2);
        }

        // host_0 dies: its current states stop counting.
        let dead = s.live.remove("host_0").expect("live");
        s.remove_instance_states("host_0");
        s.pending.remove_instance("host_0");
        converge(&mut s, &mut previous, partial);
        for p in 0..6 {
            let st = states(&s, &format!("{RESOURCE}_{p}"));
            assert_eq!(st.values().filter(|v| *v == "MASTER").count(), 1, "{st:?}");
        }

        // It rejoins with a new session: masters are handed back.
        s.live.insert(
            "host_0".into(),
            LiveParticipant {
                session: format!("{}1", dead.session),
            },
        );
        converge(&mut s, &mut previous, partial);
        for p in (0..6).filter(|p| p % 3 == 0) {
            let st = states(&s, &format!("{RESOURCE}_{p}"));
            assert_eq!(
                st.get("host_0").map(String::as_str),
                Some("MASTER"),
                "{st:?}"
            );
        }
    }
}

#[test]
fn full_auto_spreads_masters_and_rebalances_on_join() {
    let mut s = snapshot(3, RebalanceMode::FullAuto, "MasterSlave", 12, 3);
    // FULL_AUTO lists come from the controller, not the ideal state.
    let ideal = Arc::make_mut(s.ideal_states.get_mut(RESOURCE).expect("ideal"));
    for p in 0..12 {
        ideal.set_preference_list(&format!("{RESOURCE}_{p}"), Vec::<String>::new());
    }
    let mut previous = PreferenceLists::new();
    converge(&mut s, &mut previous, false);
    let masters = |s: &Snapshot| {
        let mut count = BTreeMap::<String, usize>::new();
        for p in s.partitions(RESOURCE) {
            for (i, st) in s.holders(RESOURCE, &p) {
                if st == "MASTER" {
                    *count.entry(i.to_owned()).or_default() += 1;
                }
            }
        }
        count
    };
    assert!(masters(&s).values().all(|&n| n == 4), "{:?}", masters(&s));

    s.live.insert(
        "host_3".into(),
        LiveParticipant {
            session: "3ff".into(),
        },
    );
    s.configs
        .insert("host_3".into(), InstanceConfig::new("host_3").into());
    converge(&mut s, &mut previous, true);
    assert!(masters(&s).values().all(|&n| n == 3), "{:?}", masters(&s));
    for p in s.partitions(RESOURCE) {
        assert_eq!(s.holders(RESOURCE, &p).len(), 3, "three replicas each");
    }
}

#[test]
fn online_offline_and_leader_standby_converge() {
    let mut s = snapshot(3, RebalanceMode::SemiAuto, "OnlineOffline", 4, 2);
    converge(&mut s, &mut PreferenceLists::new(), false);
    for p in s.partitions(RESOURCE) {
        assert!(s.holders(RESOURCE, &p).values().all(|v| *v == "ONLINE"));
    }
    let mut s = snapshot(3, RebalanceMode::SemiAuto, "LeaderStandby", 4, 3);
    converge(&mut s, &mut PreferenceLists::new(), true);
    for p in s.partitions(RESOURCE) {
        let st = s.holders(RESOURCE, &p);
        assert_eq!(st.values().filter(|v| **v == "LEADER").count(), 1);
        assert_eq!(st.values().filter(|v| **v == "STANDBY").count(), 2);
    }
}

#[test]
fn disabled_instances_dropped_resources_and_errors() {
    let mut s = snapshot(3, RebalanceMode::SemiAuto, "MasterSlave", 3, 3);
    converge(&mut s, &mut PreferenceLists::new(), false);

    // An ERROR replica gets no transition and keeps its slot empty.
    set_state(&mut s, "host_1", "DB_1", "ERROR");
    let best = best_possible::compute(&s, RESOURCE, &PreferenceLists::new()).expect("best");
    assert_eq!(
        best.assignment["DB_1"].get("host_1").map(String::as_str),
        Some("ERROR")
    );
    let plan = messages::plan(
        &s,
        RESOURCE,
        &best.assignment,
        &sender(),
        0,
        "T",
        &mut || "id".into(),
    );
    assert!(
        plan.send
            .iter()
            .all(|m| !(m.tgt_name() == Some("host_1") && m.partition_name() == Some("DB_1")))
    );

    // Disabling an instance moves it to OFFLINE.
    let mut disabled = InstanceConfig::new("host_2");
    disabled.set_instance_enabled(false, 0);
    s.configs.insert("host_2".into(), disabled.into());
    converge(&mut s, &mut PreferenceLists::new(), false);
    for p in s.partitions(RESOURCE) {
        assert_eq!(
            s.holders(RESOURCE, &p).get("host_2").copied(),
            Some("OFFLINE")
        );
    }

    // Dropping the resource drives every replica to DROPPED.
    s.ideal_states.clear();
    converge(&mut s, &mut PreferenceLists::new(), false);
    for p in 0..3 {
        let holders = s.holders(RESOURCE, &format!("DB_{p}"));
        assert!(
            holders.values().all(|st| *st == "ERROR"),
            "only the ERROR replica may stay: {holders:?}"
        );
    }
}

#[test]
fn stale_pending_messages_are_deleted_and_block_duplicates() {
    let mut s = snapshot(2, RebalanceMode::SemiAuto, "MasterSlave", 1, 2);
    let best = best_possible::compute(&s, RESOURCE, &PreferenceLists::new()).expect("best");
    let plan = messages::plan(
        &s,
        RESOURCE,
        &best.assignment,
        &sender(),
        0,
        "T",
        &mut || "m1".into(),
    );
    assert_eq!(plan.send.len(), 2, "both replicas go OFFLINE→SLAVE");
    for m in &plan.send {
        s.pending.insert(m.tgt_name().expect("t"), m);
    }
    // Pending messages are never sent twice.
    let again = messages::plan(
        &s,
        RESOURCE,
        &best.assignment,
        &sender(),
        10,
        "T",
        &mut || "m2".into(),
    );
    assert!(again.send.is_empty() && again.delete.is_empty());
    // A message whose from-state no longer matches is stale.
    apply(&mut s, &plan.send[0]);
    let target = plan.send[0].tgt_name().expect("t").to_owned();
    set_state(&mut s, &target, "DB_0", "MASTER");
    let cleanup = messages::plan(
        &s,
        RESOURCE,
        &best.assignment,
        &sender(),
        20,
        "T",
        &mut || "m3".into(),
    );
    assert_eq!(cleanup.delete.len(), 1, "{:?}", cleanup.delete);
}

#[test]
fn a_replica_in_mid_transition_counts_in_its_from_and_to_states() {
    let mut s = snapshot(2, RebalanceMode::SemiAuto, "MasterSlave", 1, 2);
    converge(&mut s, &mut PreferenceLists::new(), false);
    let partition = format!("{RESOURCE}_0");
    assert_eq!(states(&s, &partition)["host_0"], "MASTER");
    Arc::make_mut(s.ideal_states.get_mut(RESOURCE).expect("ideal state"))
        .set_preference_list(&partition, ["host_1", "host_0"]);
    let plan_now = |s: &Snapshot| {
        let best = best_possible::compute(s, RESOURCE, &PreferenceLists::new()).expect("best");
        messages::plan(
            s,
            RESOURCE,
            &best.assignment,
            &sender(),
            10,
            "T",
            &mut || "m".into(),
        )
    };

    let demote = plan_now(&s);
    assert_eq!(
        demote.send.len(),
        1,
        "demote before promote: {:?}",
        demote.send
    );
    let message = demote.send[0].clone();
    assert_eq!(message.tgt_name(), Some("host_0"));
    assert_eq!(message.to_state(), Some("SLAVE"));

    // host_0 has written SLAVE but not yet deleted its message: the
    // message still counts in MASTER, so host_1 is not promoted yet.
    apply(&mut s, &message);
    s.pending.insert("host_0", &message);
    assert!(plan_now(&s).send.is_empty());

    s.pending.remove("host_0", message.msg_id());
    let promote = plan_now(&s);
    assert_eq!(promote.send.len(), 1);
    assert_eq!(promote.send[0].tgt_name(), Some("host_1"));
    assert_eq!(promote.send[0].to_state(), Some("MASTER"));
}

fn set_state(s: &mut Snapshot, instance: &str, partition: &str, state: &str) {
    let session = SessionId::parse(&s.live[instance].session).expect("session");
    s.current_state_mut(instance, RESOURCE, || {
        CurrentState::new(RESOURCE, session, "MasterSlave", "DEFAULT")
    })
    .set_state(partition, state);
}

#[test]
fn the_top_state_waits_for_the_preferred_instance_unless_another_holds_it() {
    let mut s = snapshot(3, RebalanceMode::SemiAuto, "MasterSlave", 1, 3);
    let partition = format!("{RESOURCE}_0");
    let best = |s: &Snapshot| {
        best_possible::compute(s, RESOURCE, &PreferenceLists::new())
            .expect("best")
            .assignment[&partition]
            .clone()
    };
    // Cold start: host_1 became SLAVE before host_0 (preferred). The
    // MASTER still goes to host_0, so it is handed over only once.
    set_state(&mut s, "host_1", &partition, "SLAVE");
    let map = best(&s);
    assert_eq!(map["host_0"], "MASTER", "{map:?}");
    assert_eq!(map["host_1"], "SLAVE", "{map:?}");

    // host_1 holds the MASTER (host_0 was away): it keeps it until host_0
    // is SLAVE again, then hands it back.
    set_state(&mut s, "host_1", &partition, "MASTER");
    let map = best(&s);
    assert_eq!(map["host_1"], "MASTER", "{map:?}");
    assert_eq!(map["host_0"], "SLAVE", "{map:?}");
    set_state(&mut s, "host_0", &partition, "SLAVE");
    let map = best(&s);
    assert_eq!(map["host_0"], "MASTER", "{map:?}");
    assert_eq!(map["host_1"], "SLAVE", "{map:?}");
}

/// Sets `host`'s instance operation (EVACUATE drains, ENABLE undrains).
fn set_operation(s: &mut Snapshot, host: &str, kind: strand_model::InstanceOperationKind) {
    let mut config = InstanceConfig::new(host);
    let operation = strand_model::InstanceOperation {
        source: Some(strand_model::InstanceOperationSource::User),
        timestamp: Some(1),
        ..strand_model::InstanceOperation::new(kind)
    };
    config.set_instance_operation(&operation, 1);
    s.configs.insert(host.to_owned(), config.into());
}

fn count_in(s: &Snapshot, host: &str, state: &str) -> usize {
    s.partitions(RESOURCE)
        .iter()
        .filter(|p| s.current_state(host, RESOURCE, p) == Some(state))
        .count()
}

fn full_auto(instances: usize, partitions: usize) -> Snapshot {
    let mut s = snapshot(
        instances,
        RebalanceMode::FullAuto,
        "MasterSlave",
        partitions,
        3,
    );
    let ideal = Arc::make_mut(s.ideal_states.get_mut(RESOURCE).expect("ideal"));
    for p in 0..partitions {
        ideal.set_preference_list(&format!("{RESOURCE}_{p}"), Vec::<String>::new());
    }
    s
}

#[test]
fn semi_auto_drain_hands_every_master_over_keeps_slaves_and_undrain_hands_back() {
    use strand_model::InstanceOperationKind::{Enable, Evacuate};
    for partial in [false, true] {
        let mut s = snapshot(3, RebalanceMode::SemiAuto, "MasterSlave", 6, 3);
        let mut previous = PreferenceLists::new();
        converge(&mut s, &mut previous, partial);
        assert_eq!(count_in(&s, "host_0", "MASTER"), 2);

        set_operation(&mut s, "host_0", Evacuate);
        converge(&mut s, &mut previous, partial);
        assert_eq!(count_in(&s, "host_0", "MASTER"), 0);
        assert_eq!(count_in(&s, "host_0", "SLAVE"), 6, "its replicas stay");
        for p in s.partitions(RESOURCE) {
            let st = states(&s, &p);
            assert_eq!(st.values().filter(|v| *v == "MASTER").count(), 1, "{st:?}");
        }

        set_operation(&mut s, "host_0", Enable);
        converge(&mut s, &mut previous, partial);
        assert_eq!(
            count_in(&s, "host_0", "MASTER"),
            2,
            "preferred masters back"
        );
    }
}

#[test]
fn handoffs_start_at_most_the_limit_at_a_time_and_every_drain_ends() {
    use strand_model::InstanceOperationKind::{Enable, Evacuate};
    for (limit, partial) in [(1, false), (1, true), (3, false)] {
        let mut s = snapshot(3, RebalanceMode::SemiAuto, "MasterSlave", 12, 3);
        let mut config = strand_model::ClusterConfig::new("c");
        config
            .record_mut()
            .set_simple(handoffs::LIMIT_FIELD, limit.to_string());
        s.cluster_config = Some(Arc::new(config));
        let mut previous = PreferenceLists::new();
        converge(&mut s, &mut previous, partial);
        assert_eq!(count_in(&s, "host_0", "MASTER"), 4);
        set_operation(&mut s, "host_0", Evacuate);
        converge_checking(&mut s, &mut previous, partial, Some(limit));
        assert_eq!(count_in(&s, "host_0", "MASTER"), 0, "the drain ended");
        set_operation(&mut s, "host_0", Enable);
        converge_checking(&mut s, &mut previous, partial, Some(limit));
        assert_eq!(count_in(&s, "host_0", "MASTER"), 4, "handed back");
    }
}

#[test]
fn a_drain_with_no_other_replica_keeps_the_master() {
    let mut s = snapshot(1, RebalanceMode::SemiAuto, "MasterSlave", 2, 1);
    let mut previous = PreferenceLists::new();
    converge(&mut s, &mut previous, false);
    set_operation(
        &mut s,
        "host_0",
        strand_model::InstanceOperationKind::Evacuate,
    );
    assert_eq!(
        converge(&mut s, &mut previous, false),
        0,
        "nothing to move to"
    );
    assert_eq!(count_in(&s, "host_0", "MASTER"), 2);
}

#[test]
fn full_auto_drain_moves_replicas_off_and_never_leaves_a_partition_short() {
    for partial in [false, true] {
        let mut s = full_auto(4, 8);
        let mut previous = PreferenceLists::new();
        converge(&mut s, &mut previous, partial);
        set_operation(
            &mut s,
            "host_0",
            strand_model::InstanceOperationKind::Evacuate,
        );
        // Nothing is dropped from host_0 before its replacement is ready.
        let best = best_possible::compute(&s, RESOURCE, &previous).expect("best");
        for (p, map) in &best.assignment {
            if s.current_state("host_0", RESOURCE, p).is_some() {
                assert!(
                    matches!(
                        map.get("host_0").map(String::as_str),
                        Some("MASTER" | "SLAVE")
                    ),
                    "{p}: host_0 must keep serving until the new replica is ready: {map:?}"
                );
            }
        }
        // Step by step: every partition keeps a MASTER or one replica
        // one hop from it, and at least two serving replicas.
        for _ in 0..200 {
            let before: usize = s.pending.iter().count();
            let sent = converge_steps(&mut s, &mut previous, 1);
            for p in s.partitions(RESOURCE) {
                let st = states(&s, &p);
                let serving = st
                    .values()
                    .filter(|v| *v == "MASTER" || *v == "SLAVE")
                    .count();
                assert!(serving >= 2, "{p} short of replicas: {st:?}");
            }
            if sent == 0 && before == 0 {
                break;
            }
        }
        assert!(
            s.partitions(RESOURCE)
                .iter()
                .all(|p| s.current_state("host_0", RESOURCE, p).is_none()),
            "host_0 holds nothing"
        );
        for p in s.partitions(RESOURCE) {
            let st = states(&s, &p);
            assert_eq!(st.len(), 3, "{st:?}");
            assert_eq!(st.values().filter(|v| *v == "MASTER").count(), 1, "{st:?}");
        }
    }
}

/// `rounds` pipeline rounds in which participants apply every message;
/// returns the messages sent.
fn converge_steps(s: &mut Snapshot, previous: &mut PreferenceLists, rounds: usize) -> usize {
    let mut sent = 0;
    for round in 0..rounds {
        let best = best_possible::compute(s, RESOURCE, previous).expect("best possible");
        *previous = best.preference_lists.clone();
        let mut counter = 0;
        let mut new_id = || {
            counter += 1;
            format!("step-{round}-{counter:06}")
        };
        let plan = messages::plan(
            s,
            RESOURCE,
            &best.assignment,
            &sender(),
            1_000,
            "Test",
            &mut new_id,
        );
        sent += plan.send.len();
        for m in &plan.send {
            apply(s, m);
            assert_at_most_one_master(s);
        }
    }
    sent
}

/// FULL_AUTO 8 × 3 on four instances with a 60 s rebalance delay and
/// `MIN_ACTIVE_REPLICAS` 2, at a fixed time.
fn delayed_full_auto() -> Snapshot {
    let mut s = full_auto(4, 8);
    let mut cluster = strand_model::ClusterConfig::new("C");
    cluster
        .record_mut()
        .set_simple("DELAY_REBALANCE_TIME", "60000");
    s.cluster_config = Some(cluster.into());
    let mut resource = strand_model::ZNRecord::new(RESOURCE);
    resource.set_simple("MIN_ACTIVE_REPLICAS", "2");
    s.resource_configs
        .insert(RESOURCE.to_owned(), resource.into());
    s.now_ms = 1_000_000;
    s
}

#[test]
fn delayed_rebalance_keeps_an_offline_instances_replicas_placed_until_the_delay_ends() {
    let mut s = delayed_full_auto();
    let mut previous = PreferenceLists::new();
    converge(&mut s, &mut previous, false);
    let held = |s: &Snapshot, host: &str| {
        s.partitions(RESOURCE)
            .into_iter()
            .filter(|p| s.current_state(host, RESOURCE, p).is_some())
            .collect::<Vec<_>>()
    };
    let on_host_0 = held(&s, "host_0");
    assert!(!on_host_0.is_empty());

    // host_0 restarts: offline 1 s ago, delay 60 s.
    let dead = s.live.remove("host_0").expect("live");
    s.remove_instance_states("host_0");
    s.pending.remove_instance("host_0");
    s.offline_since.insert("host_0".into(), s.now_ms - 1_000);
    assert_eq!(
        strand_rebalance::delay::next_expiry(&s),
        Some(s.now_ms - 1_000 + 60_000)
    );
    converge(&mut s, &mut previous, false);
    for p in s.partitions(RESOURCE) {
        let st = states(&s, &p);
        assert_eq!(
            st.values().filter(|v| *v == "MASTER").count(),
            1,
            "top state moves at once: {st:?}"
        );
        if on_host_0.contains(&p) {
            assert_eq!(st.len(), 2, "{p}: no replica placed elsewhere: {st:?}");
        }
    }

    // It comes back within the delay: its replicas come back to it.
    s.live.insert("host_0".into(), dead.clone());
    s.offline_since.remove("host_0");
    converge(&mut s, &mut previous, false);
    assert_eq!(held(&s, "host_0"), on_host_0);

    // Offline again, past the delay: its replicas are placed elsewhere.
    s.live.remove("host_0");
    s.remove_instance_states("host_0");
    s.pending.remove_instance("host_0");
    s.offline_since.insert("host_0".into(), s.now_ms - 61_000);
    assert_eq!(strand_rebalance::delay::next_expiry(&s), None);
    converge(&mut s, &mut previous, false);
    for p in s.partitions(RESOURCE) {
        assert_eq!(states(&s, &p).len(), 3, "{p}");
    }
}

#[test]
fn delayed_rebalance_keeps_a_disabled_instances_replicas_placed_until_the_delay_ends() {
    let mut s = delayed_full_auto();
    let mut previous = PreferenceLists::new();
    converge(&mut s, &mut previous, false);
    let on_host_0: Vec<String> = s
        .partitions(RESOURCE)
        .into_iter()
        .filter(|p| s.current_state("host_0", RESOURCE, p).is_some())
        .collect();
    assert!(!on_host_0.is_empty());
    let disable = |s: &mut Snapshot, since: i64| {
        let mut config = InstanceConfig::new("host_0");
        config.set_instance_enabled(false, since);
        s.configs.insert("host_0".into(), config.into());
    };
    let serving_elsewhere = |s: &Snapshot, p: &str| {
        states(s, p)
            .iter()
            .filter(|(i, st)| *i != "host_0" && *st != "OFFLINE")
            .count()
    };

    // Disabled a second ago, delay 60 s: its replicas go OFFLINE and stay
    // placed; its MASTERs move.
    let now = s.now_ms;
    disable(&mut s, now - 1_000);
    assert_eq!(
        strand_rebalance::delay::next_expiry(&s),
        Some(s.now_ms - 1_000 + 60_000)
    );
    converge(&mut s, &mut previous, false);
    for p in s.partitions(RESOURCE) {
        let st = states(&s, &p);
        assert_eq!(
            st.values().filter(|v| *v == "MASTER").count(),
            1,
            "{p}: {st:?}"
        );
        if on_host_0.contains(&p) {
            assert_eq!(
                st.get("host_0").map(String::as_str),
                Some("OFFLINE"),
                "{p}: {st:?}"
            );
            assert_eq!(
                serving_elsewhere(&s, &p),
                2,
                "{p}: placed elsewhere: {st:?}"
            );
        }
    }

    // Past the delay: its replicas are placed elsewhere.
    disable(&mut s, now - 61_000);
    assert_eq!(strand_rebalance::delay::next_expiry(&s), None);
    converge(&mut s, &mut previous, false);
    for p in s.partitions(RESOURCE) {
        assert_eq!(serving_elsewhere(&s, &p), 3, "{p}: {:?}", states(&s, &p));
    }
}

#[test]
fn with_p2p_enabled_the_promotion_rides_on_the_demotion() {
    let mut s = snapshot(3, RebalanceMode::SemiAuto, "MasterSlave", 3, 3);
    let mut previous = PreferenceLists::new();
    converge(&mut s, &mut previous, false);
    let plan_for_drain = |s: &Snapshot| {
        let best = best_possible::compute(s, RESOURCE, &PreferenceLists::new()).expect("best");
        let mut n = 0;
        let mut new_id = || {
            n += 1;
            format!("p2p-{n}")
        };
        messages::plan(
            s,
            RESOURCE,
            &best.assignment,
            &sender(),
            1_000,
            "Test",
            &mut new_id,
        )
    };
    set_operation(
        &mut s,
        "host_0",
        strand_model::InstanceOperationKind::Evacuate,
    );
    // Off by default: only the demotion goes out.
    let plan = plan_for_drain(&s);
    assert_eq!(plan.send.len(), 1);
    assert!(plan.send[0].relay_participants().is_empty());

    let mut cluster = strand_model::ClusterConfig::new("C");
    cluster
        .record_mut()
        .set_simple("P2P_MESSAGE_ENABLED", "true");
    s.cluster_config = Some(cluster.into());
    let plan = plan_for_drain(&s);
    assert_eq!(plan.send.len(), 1, "still one message: {:?}", plan.send);
    let demotion = &plan.send[0];
    assert_eq!(demotion.tgt_name(), Some("host_0"));
    assert_eq!(
        (demotion.from_state(), demotion.to_state()),
        (Some("MASTER"), Some("SLAVE"))
    );
    let target = demotion.relay_participants()[0].clone();
    let relayed = demotion.relay_message(&target).expect("relayed");
    assert_eq!(
        (relayed.from_state(), relayed.to_state(), relayed.tgt_name()),
        (Some("SLAVE"), Some("MASTER"), Some(target.as_str()))
    );
    assert_eq!(relayed.msg_subtype(), Some("RELAYED_MESSAGE"));
    assert_eq!(relayed.record().simple("RELAY_FROM"), Some("host_0"));
    // The resource config's setting wins over the cluster's.
    let mut off = strand_model::ZNRecord::new(RESOURCE);
    off.set_simple("P2P_MESSAGE_ENABLED", "false");
    s.resource_configs.insert(RESOURCE.to_owned(), off.into());
    assert!(plan_for_drain(&s).send[0].relay_participants().is_empty());
}

/// The messages one pipeline round plans (no gate, nothing applied).
fn plan_once(s: &Snapshot) -> Vec<Message> {
    let best = best_possible::compute(s, RESOURCE, &PreferenceLists::new()).expect("best");
    let mut n = 0;
    let mut new_id = || {
        n += 1;
        format!("once-{n}")
    };
    messages::plan(
        s,
        RESOURCE,
        &best.assignment,
        &sender(),
        1_000,
        "Test",
        &mut new_id,
    )
    .send
}

#[test]
fn current_active_replica_number_counts_serving_replicas_as_helix_does() {
    // OnlineOffline: a rejoining replica's OFFLINE→ONLINE sees the two
    // ONLINE ones (OFFLINE, a second-top state there, does not count).
    let mut s = snapshot(3, RebalanceMode::SemiAuto, "OnlineOffline", 1, 3);
    let mut previous = PreferenceLists::new();
    converge(&mut s, &mut previous, false);
    set_state(&mut s, "host_2", "DB_0", "OFFLINE");
    let sent = plan_once(&s);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to_state(), Some("ONLINE"));
    assert_eq!(sent[0].current_active_replica_number(), 2);

    // MasterSlave: MASTER and ERROR count, OFFLINE does not; a transition
    // toward OFFLINE gets -1.
    let mut s = snapshot(3, RebalanceMode::SemiAuto, "MasterSlave", 1, 3);
    let mut previous = PreferenceLists::new();
    converge(&mut s, &mut previous, false);
    set_state(&mut s, "host_1", "DB_0", "ERROR");
    set_state(&mut s, "host_2", "DB_0", "OFFLINE");
    let sent = plan_once(&s);
    let to_slave = sent
        .iter()
        .find(|m| m.tgt_name() == Some("host_2"))
        .expect("host_2 bootstraps");
    assert_eq!(to_slave.to_state(), Some("SLAVE"));
    assert_eq!(to_slave.current_active_replica_number(), 2);
    set_state(&mut s, "host_1", "DB_0", "SLAVE");
    let mut ideal = (*s.ideal_states[RESOURCE]).clone();
    ideal.set_preference_list("DB_0", ["host_1", "host_0"]);
    s.ideal_states.insert(RESOURCE.to_owned(), ideal.into());
    let downward: Vec<Message> = plan_once(&s)
        .into_iter()
        .filter(|m| m.from_state() == Some("MASTER"))
        .collect();
    assert_eq!(downward.len(), 1, "the MASTER moves to host_1");
    assert_eq!(downward[0].current_active_replica_number(), -1);
}

/// One round of FULL_AUTO messages, labelled as the controller labels
/// them: each message's (instance, from, to, ST_REBALANCE_TYPE), in order.
fn labelled_round(
    s: &Snapshot,
    previous: &mut PreferenceLists,
) -> Vec<(String, String, String, String)> {
    let mut plan = planned_round(s, previous, &mut 0);
    rebalance_type::label(s, RESOURCE, previous, &mut plan.send);
    plan.send
        .iter()
        .map(|m| {
            (
                format!(
                    "{}/{}",
                    m.partition_name().unwrap_or_default(),
                    m.tgt_name().unwrap_or_default()
                ),
                m.from_state().unwrap_or_default().to_owned(),
                m.to_state().unwrap_or_default().to_owned(),
                m.rebalance_type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// `ST_REBALANCE_TYPE` as Helix 2.0.1's IntermediateStateCalcStage sets it:
/// a FULL_AUTO message that brings the partition a replica its state model
/// still lacks is RECOVERY_REBALANCE (every OFFLINE→ONLINE of a cold
/// OnlineOffline resource, as the reference dump's OODB messages show),
/// one beyond what is required LOAD_REBALANCE (the third SLAVE of a cold
/// MasterSlave partition needing one MASTER and two SLAVEs, a replica
/// moving to a joining instance); SEMI_AUTO messages carry none.
#[test]
fn full_auto_messages_carry_helix_rebalance_types() {
    let mut oodb = full_auto_with(3, "OnlineOffline", 2);
    let round = labelled_round(&oodb, &mut PreferenceLists::new());
    assert_eq!(round.len(), 6, "{round:?}");
    assert!(
        round.iter().all(|(_, from, to, kind)| from == "OFFLINE"
            && to == "ONLINE"
            && kind == "RECOVERY_REBALANCE"),
        "{round:?}"
    );
    // Once they are ONLINE nothing more is sent.
    let mut previous = PreferenceLists::new();
    converge(&mut oodb, &mut previous, false);
    assert!(labelled_round(&oodb, &mut previous).is_empty());

    let mut db = full_auto(3, 1);
    let mut previous = PreferenceLists::new();
    let round = labelled_round(&db, &mut previous);
    // In preference-list order, the first two SLAVEs are required, the
    // third is not.
    let list = &previous[&format!("{RESOURCE}_0")];
    let kind_of = |instance: &str| {
        round
            .iter()
            .find(|(replica, _, _, _)| replica.ends_with(&format!("/{instance}")))
            .map(|(_, _, _, kind)| kind.as_str())
    };
    let kinds: Vec<Option<&str>> = list.iter().map(|i| kind_of(i)).collect();
    assert_eq!(
        kinds,
        [
            Some("RECOVERY_REBALANCE"),
            Some("RECOVERY_REBALANCE"),
            Some("LOAD_REBALANCE")
        ],
        "{list:?}: {round:?}"
    );
    // The promotion a partition of three SLAVEs lacks is a recovery.
    for (partition, to) in [(&format!("{RESOURCE}_0"), "SLAVE")] {
        for instance in ["host_0", "host_1", "host_2"] {
            apply_to(&mut db, instance, partition, to);
        }
    }
    let round = labelled_round(&db, &mut previous);
    assert_eq!(round.len(), 1, "{round:?}");
    assert_eq!(
        (round[0].2.as_str(), round[0].3.as_str()),
        ("MASTER", "RECOVERY_REBALANCE")
    );

    // Converged, an instance joins: the replicas moving to it are load.
    let mut wide = full_auto(3, 12);
    let mut previous = PreferenceLists::new();
    converge(&mut wide, &mut previous, false);
    wide.live.insert(
        "host_3".into(),
        LiveParticipant {
            session: "3ff".into(),
        },
    );
    wide.configs
        .insert("host_3".into(), InstanceConfig::new("host_3").into());
    let round = labelled_round(&wide, &mut previous);
    let to_new: Vec<_> = round
        .iter()
        .filter(|(replica, from, _, _)| replica.ends_with("/host_3") && from == "OFFLINE")
        .collect();
    assert!(!to_new.is_empty(), "{round:?}");
    assert!(
        to_new
            .iter()
            .all(|(_, _, _, kind)| kind == "LOAD_REBALANCE"),
        "{round:?}"
    );

    // SEMI_AUTO: no label.
    let semi = snapshot(3, RebalanceMode::SemiAuto, "MasterSlave", 2, 3);
    let best = best_possible::compute(&semi, RESOURCE, &PreferenceLists::new()).expect("best");
    let mut counter = 0u64;
    let mut new_id = || {
        counter += 1;
        format!("m{counter}")
    };
    let mut plan = messages::plan(
        &semi,
        RESOURCE,
        &best.assignment,
        &sender(),
        1_000,
        "Test",
        &mut new_id,
    );
    assert!(!plan.send.is_empty());
    rebalance_type::label(&semi, RESOURCE, &best.preference_lists, &mut plan.send);
    assert!(plan.send.iter().all(|m| m.rebalance_type().is_none()));
}

fn full_auto_with(instances: usize, model: &str, partitions: usize) -> Snapshot {
    let mut s = snapshot(instances, RebalanceMode::FullAuto, model, partitions, 3);
    let ideal = Arc::make_mut(s.ideal_states.get_mut(RESOURCE).expect("ideal"));
    for p in 0..partitions {
        ideal.set_preference_list(&format!("{RESOURCE}_{p}"), Vec::<String>::new());
    }
    s
}

/// Maintenance mode as Helix 2.0.1's `MaintenanceRebalancer` runs it: an
/// instance that leaves takes its replicas with it (none is placed
/// elsewhere); when it comes back, its replicas carried over into the new
/// session as OFFLINE (Helix's `carryOverPreviousCurrentState`) are
/// recovered, maintenance still on; a newcomer gets nothing.
#[test]
fn maintenance_recovers_a_returning_instance_and_places_nothing_new() {
    let mut s = full_auto_with(3, "OnlineOffline", 6);
    let mut previous = PreferenceLists::new();
    converge(&mut s, &mut previous, false);
    let online = |s: &Snapshot, instance: &str| {
        s.partitions(RESOURCE)
            .iter()
            .filter(|p| s.holders(RESOURCE, p).get(instance) == Some(&"ONLINE"))
            .count()
    };
    assert_eq!(online(&s, "host_2"), 6);

    s.maintenance = true;
    s.live.remove("host_2");
    s.remove_instance_states("host_2");
    converge(&mut s, &mut previous, false);
    for p in s.partitions(RESOURCE) {
        assert_eq!(s.holders(RESOURCE, &p).len(), 2, "nothing re-placed: {p}");
    }

    // Back with a new session, its replicas carried over as OFFLINE.
    s.live.insert(
        "host_2".into(),
        LiveParticipant {
            session: "2ff".into(),
        },
    );
    for p in 0..6 {
        apply_to(&mut s, "host_2", &format!("{RESOURCE}_{p}"), "OFFLINE");
    }
    // And a newcomer.
    s.live.insert(
        "host_3".into(),
        LiveParticipant {
            session: "3ff".into(),
        },
    );
    s.configs
        .insert("host_3".into(), InstanceConfig::new("host_3").into());
    converge(&mut s, &mut previous, false);
    assert_eq!(online(&s, "host_2"), 6, "recovered in maintenance");
    assert_eq!(online(&s, "host_3"), 0, "nothing new placed in maintenance");
    for p in s.partitions(RESOURCE) {
        assert_eq!(
            s.holders(RESOURCE, &p)
                .values()
                .filter(|st| **st == "ONLINE")
                .count(),
            3,
            "{p}"
        );
    }
}
