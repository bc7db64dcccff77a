//! How many partitions the controller leaves without their top state at
//! once by its own choice.
//!
//! A planned handoff — demote the replica holding a partition's top state,
//! then promote another — leaves the partition without a top state until
//! the promotion is recorded, and that window lasts about as long as the
//! transitions running beside it keep the participants and ZooKeeper busy:
//! draining an instance that holds 100 MASTERs by demoting all 100 at once
//! makes every one of those windows about as long as the whole drain. So
//! the demotions that open a window start at most `limit` at a time: while
//! `limit` partitions are in a window — no live replica holds the top
//! state and a message toward it is pending — or about to open one — a
//! pending demotion of the only live top-state replica — further such
//! demotions are held back, and the controller decides their partitions
//! again in its next run (each handoff that ends marks its partition, so
//! a run follows). Promotions are never held back: a partition that lost
//! its top state gets one as soon as the state's bound allows, and only
//! the demotion of a live top state waits.
//!
//! The limit is the cluster config's `STRAND_MAX_TOP_STATE_HANDOFFS`
//! (Strand's own field; a Java controller ignores it): a positive number,
//! or `0`/negative for no limit; absent or unreadable, [`DEFAULT_LIMIT`].

use std::collections::BTreeSet;

use strand_model::Message;

use crate::snapshot::Snapshot;

/// The cluster config field that sets the limit.
pub const LIMIT_FIELD: &str = "STRAND_MAX_TOP_STATE_HANDOFFS";

/// The limit when the cluster config does not set one.
pub const DEFAULT_LIMIT: usize = 8;

/// A partition of a resource.
pub type PartitionKey = (String, String);

/// The limit for this cluster (`None`: no limit).
pub fn limit(snapshot: &Snapshot) -> Option<usize> {
    limit_of(
        snapshot
            .cluster_config
            .as_ref()
            .and_then(|c| c.record().simple(LIMIT_FIELD)),
    )
}

/// The limit a value of [`LIMIT_FIELD`] sets (`None`: no limit).
pub fn limit_of(field: Option<&str>) -> Option<usize> {
    match field.and_then(|v| v.trim().parse::<i64>().ok()) {
        None => Some(DEFAULT_LIMIT),
        Some(n) if n > 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        Some(_) => None,
    }
}

/// Removes from `send` the demotions that would open a window beyond the
/// limit (module docs); returns their partitions.
pub fn gate(snapshot: &Snapshot, send: &mut Vec<Message>) -> BTreeSet<PartitionKey> {
    let mut held = BTreeSet::new();
    let Some(limit) = limit(snapshot) else {
        return held;
    };
    let windows = Windows { snapshot };
    let mut open: BTreeSet<PartitionKey> = BTreeSet::new();
    for (instance, pending) in snapshot.pending.iter() {
        if !snapshot.is_live(instance) {
            continue;
        }
        let resource = pending.resource_name();
        for partition in pending.partition_names() {
            if windows.opens_or_fills(
                instance,
                resource,
                partition,
                pending.from_state(),
                pending.to_state(),
            ) {
                open.insert((resource.to_owned(), partition.clone()));
            }
        }
    }
    // This run's promotions fill windows whatever the limit: count them
    // before deciding which demotions may start.
    let mut demotions = Vec::new();
    for (index, message) in send.iter().enumerate() {
        let (Some(instance), Some(resource), Some(partition)) = (
            message.tgt_name(),
            message.resource_name(),
            message.partition_name(),
        ) else {
            continue;
        };
        let (from, to) = (message.from_state(), message.to_state());
        if !windows.opens_or_fills(instance, resource, partition, from, to) {
            continue;
        }
        let key = (resource.to_owned(), partition.to_owned());
        if windows.is_demotion(resource, from, to) {
            demotions.push((index, key));
        } else {
            open.insert(key);
        }
    }
    let mut dropped = BTreeSet::new();
    for (index, key) in demotions {
        if open.contains(&key) || open.len() < limit {
            open.insert(key);
        } else {
            dropped.insert(index);
            held.insert(key);
        }
    }
    if !dropped.is_empty() {
        let mut index = 0;
        send.retain(|_| {
            let keep = !dropped.contains(&index);
            index += 1;
            keep
        });
    }
    held
}

/// Which transitions open or fill a window without the top state.
struct Windows<'a> {
    snapshot: &'a Snapshot,
}

impl Windows<'_> {
    fn top_state(&self, resource: &str) -> Option<&str> {
        let name = self.snapshot.model_name(resource)?;
        self.snapshot.models.get(name)?.top_state()
    }

    /// `from → to` leaves the top state.
    fn is_demotion(&self, resource: &str, from: Option<&str>, to: Option<&str>) -> bool {
        let Some(top) = self.top_state(resource) else {
            return false;
        };
        from == Some(top) && to != Some(top)
    }

    /// Whether `instance`'s `from → to` of the partition demotes its only
    /// live top-state replica, or promotes one while no live replica holds
    /// the top state (a promotion already recorded closes its window).
    fn opens_or_fills(
        &self,
        instance: &str,
        resource: &str,
        partition: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> bool {
        let Some(top) = self.top_state(resource) else {
            return false;
        };
        let holders = self.snapshot.holders(resource, partition);
        let mut top_holders = holders.iter().filter(|(_, state)| **state == top);
        if from == Some(top) && to != Some(top) {
            top_holders.all(|(holder, _)| *holder == instance)
        } else {
            to == Some(top) && top_holders.next().is_none()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use strand_model::{
        ClusterConfig, CurrentState, IdealState, Message, RebalanceMode, SessionId, builtin,
    };

    use super::*;
    use crate::snapshot::LiveParticipant;

    const DB: &str = "db";

    /// `hosts` live instances; partition `db_p` is MASTER on host_0 and
    /// SLAVE on host_1 for every `p < partitions`.
    fn cluster(partitions: usize) -> Snapshot {
        let mut s = Snapshot::default();
        for m in builtin::all() {
            s.models.insert(m.id().to_owned(), m.into());
        }
        for i in 0..3 {
            s.live.insert(
                format!("host_{i}"),
                LiveParticipant {
                    session: format!("{:x}", 0x100 + i),
                },
            );
        }
        let ideal = IdealState::for_new_resource(
            DB,
            partitions as i32,
            "MasterSlave",
            RebalanceMode::SemiAuto,
            "DEFAULT",
        );
        s.ideal_states.insert(DB.to_owned(), ideal.into());
        for p in 0..partitions {
            set(&mut s, "host_0", p, "MASTER");
            set(&mut s, "host_1", p, "SLAVE");
        }
        s
    }

    fn set(s: &mut Snapshot, instance: &str, partition: usize, state: &str) {
        let session = SessionId::parse(&s.live[instance].session).expect("session");
        s.current_state_mut(instance, DB, || {
            CurrentState::new(DB, session, "MasterSlave", "DEFAULT")
        })
        .set_state(&format!("{DB}_{partition}"), state);
    }

    fn message(instance: &str, partition: usize, from: &str, to: &str) -> Message {
        let id = format!("{instance}-{partition}-{to}");
        crate::test_support::transition(&id, instance, &format!("{DB}_{partition}"), from, to)
    }

    fn with_limit(s: &mut Snapshot, value: &str) {
        let mut config = ClusterConfig::new("c");
        config.record_mut().set_simple(LIMIT_FIELD, value);
        s.cluster_config = Some(Arc::new(config));
    }

    fn partitions(send: &[Message]) -> Vec<&str> {
        send.iter().filter_map(|m| m.partition_name()).collect()
    }

    #[test]
    fn demotions_of_the_top_state_start_at_most_limit_at_a_time() {
        let mut s = cluster(5);
        with_limit(&mut s, "2");
        let mut send: Vec<Message> = (0..5)
            .map(|p| message("host_0", p, "MASTER", "SLAVE"))
            .collect();
        let held = gate(&s, &mut send);
        assert_eq!(partitions(&send), ["db_0", "db_1"]);
        assert_eq!(held.len(), 3);
        assert!(held.contains(&(DB.to_owned(), "db_4".to_owned())));

        // db_0 is demoted and its promotion pending, db_1's demotion is
        // pending: two windows.
        s.pending.insert("host_0", &send[1]);
        set(&mut s, "host_0", 0, "SLAVE");
        s.pending
            .insert("host_1", &message("host_1", 0, "SLAVE", "MASTER"));
        let mut again: Vec<Message> = (2..5)
            .map(|p| message("host_0", p, "MASTER", "SLAVE"))
            .collect();
        assert_eq!(gate(&s, &mut again).len(), 3, "two windows open");
        assert!(again.is_empty());

        // db_0 has its new MASTER: one more may start.
        set(&mut s, "host_1", 0, "MASTER");
        let mut again: Vec<Message> = (2..5)
            .map(|p| message("host_0", p, "MASTER", "SLAVE"))
            .collect();
        gate(&s, &mut again);
        assert_eq!(partitions(&again), ["db_2"]);
    }

    #[test]
    fn promotions_are_never_held_back_and_count_first() {
        let mut s = cluster(4);
        with_limit(&mut s, "1");
        // db_3 lost its MASTER (host_0 went); its promotion comes after a
        // demotion in the run's order.
        s.current_state_mut("host_0", DB, || unreachable!())
            .remove_partition("db_3");
        let mut send = vec![
            message("host_0", 0, "MASTER", "SLAVE"),
            message("host_1", 3, "SLAVE", "MASTER"),
            message("host_2", 1, "OFFLINE", "SLAVE"),
        ];
        let held = gate(&s, &mut send);
        assert_eq!(
            partitions(&send),
            ["db_3", "db_1"],
            "promotion and bootstrap kept"
        );
        assert_eq!(
            held.into_iter().collect::<Vec<_>>(),
            [(DB.into(), "db_0".into())]
        );
    }

    #[test]
    fn a_demotion_that_leaves_another_top_state_is_not_a_window() {
        let mut s = cluster(2);
        with_limit(&mut s, "1");
        set(&mut s, "host_1", 0, "MASTER"); // two MASTERs: demoting one is no window
        let mut send = vec![
            message("host_0", 1, "MASTER", "SLAVE"),
            message("host_0", 0, "MASTER", "SLAVE"),
        ];
        assert!(gate(&s, &mut send).is_empty());
        assert_eq!(send.len(), 2);
    }

    #[test]
    fn the_limit_comes_from_the_cluster_config() {
        let mut s = cluster(1);
        assert_eq!(limit(&s), Some(DEFAULT_LIMIT), "absent");
        with_limit(&mut s, "3");
        assert_eq!(limit(&s), Some(3));
        with_limit(&mut s, "-1");
        assert_eq!(limit(&s), None, "lifted");
        with_limit(&mut s, "0");
        assert_eq!(limit(&s), None, "lifted");
        with_limit(&mut s, "many");
        assert_eq!(limit(&s), Some(DEFAULT_LIMIT), "unreadable");
        with_limit(&mut s, "-1");
        let mut send: Vec<Message> = (0..1)
            .map(|p| message("host_0", p, "MASTER", "SLAVE"))
            .collect();
        assert!(gate(&s, &mut send).is_empty());
    }
}
