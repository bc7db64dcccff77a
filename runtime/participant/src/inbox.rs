//! [`Inbox`]: the messages one session knows of, each with its
//! [`Shape`], and the order in which passes look at those not taken yet,
//! kept as messages come and go so that a pass neither copies nor sorts
//! the inbox.
//!
//! # The order
//! A replica's messages are looked at one after another, in creation
//! order: only its oldest untaken message is *eligible*. Eligible messages
//! are looked at by [`Rank`] first — the position of their transition in
//! the state model's `STATE_TRANSITION_PRIORITYLIST`, so a MASTER→SLAVE
//! or SLAVE→MASTER handoff does not queue behind a rejoining instance's
//! hundreds of OFFLINE→SLAVE bootstraps — then oldest first. A message is
//! ranked once, by the engine ([`Inbox::rank_new`]), as soon as its state
//! model's definition is known; until then it counts as least urgent.
//! Messages that never run (discards) come first: deleting them is cheap.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use strand_model::Message;

use crate::classify::Shape;
use crate::engine::Replica;
use crate::scheduler::Urgency;

/// How urgent a message is; lower runs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Rank {
    /// The transition's position in the model's priority list (unlisted
    /// transitions after every listed one).
    pub order: u32,
    /// Which slots it may take ([`crate::scheduler`]).
    pub urgency: Urgency,
}

impl Rank {
    /// Messages that never run: looked at before any transition.
    const DISCARD: Rank = Rank {
        order: 0,
        urgency: Urgency::Routine,
    };
    /// A transition whose model is not known yet.
    const UNRANKED: Rank = Rank {
        order: u32::MAX,
        urgency: Urgency::Routine,
    };
}

/// A message this session knows of.
pub(crate) struct Tracked {
    pub message: Message,
    /// What the message asks for (classified once, when read).
    pub shape: Shape,
    /// The znode version read.
    pub version: i32,
    /// A task drives it to its end; the passes leave it alone.
    pub taken: bool,
    /// Its place among eligible messages (meaningful once eligible).
    pub rank: Rank,
    /// `CREATE_TIMESTAMP` (0 when absent).
    created: i64,
}

impl Tracked {
    /// A message as read, classified for `shape`.
    pub(crate) fn new(message: Message, shape: Shape, version: i32) -> Self {
        Self {
            created: message.create_timestamp().unwrap_or(0),
            message,
            shape,
            version,
            taken: false,
            rank: Rank::UNRANKED,
        }
    }

    fn replica(&self) -> Option<&Replica> {
        match &self.shape {
            Shape::Transition(t) => Some(&t.key),
            Shape::Discard(..) => None,
        }
    }
}

/// The messages of one session by id, and the order of the untaken ones
/// (module docs).
#[derive(Default)]
pub(crate) struct Inbox {
    by_id: BTreeMap<String, Tracked>,
    /// Per replica, its untaken transitions in creation order; the first
    /// is eligible.
    queues: HashMap<Replica, BTreeSet<(i64, String)>>,
    /// Eligible messages in the order passes look at them.
    eligible: BTreeSet<(Rank, i64, String)>,
    /// Eligible transitions not ranked yet.
    unranked: BTreeSet<String>,
}

impl Inbox {
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    pub(crate) fn insert(&mut self, id: String, tracked: Tracked) {
        self.forget(&id);
        let untaken = !tracked.taken;
        let replica = tracked.replica().cloned();
        let created = tracked.created;
        self.by_id.insert(id.clone(), tracked);
        if !untaken {
            return;
        }
        match replica {
            None => self.make_eligible(&id),
            Some(replica) => {
                let queue = self.queues.entry(replica.clone()).or_default();
                let old_head = queue.first().map(|(_, head)| head.clone());
                queue.insert((created, id));
                let new_head = queue.first().map(|(_, head)| head.clone());
                if old_head != new_head {
                    if let Some(old) = old_head {
                        self.make_ineligible(&old);
                    }
                    self.promote_head(&replica);
                }
            }
        }
    }

    /// Forgets a message that is gone, unless a task drives it.
    pub(crate) fn gone(&mut self, id: &str) {
        if self.by_id.get(id).is_some_and(|t| !t.taken) {
            self.forget(id);
        }
    }

    /// Keeps the taken messages and those in `present`.
    pub(crate) fn retain_present(&mut self, present: &HashSet<&String>) {
        let gone: Vec<String> = self
            .by_id
            .iter()
            .filter(|(id, t)| !t.taken && !present.contains(id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            self.forget(&id);
        }
    }

    /// A task drives the message from now on.
    pub(crate) fn take(&mut self, id: &str) {
        if self.by_id.get(id).is_none_or(|t| t.taken) {
            return;
        }
        self.leave_queue(id);
        if let Some(tracked) = self.by_id.get_mut(id) {
            tracked.taken = true;
        }
    }

    /// Forgets a message (its task ended, or it is gone).
    pub(crate) fn forget(&mut self, id: &str) {
        if self.by_id.get(id).is_some_and(|t| !t.taken) {
            self.leave_queue(id);
        }
        self.by_id.remove(id);
    }

    /// Ranks the eligible transitions not ranked yet; `rank` answers `None`
    /// while a message's state model is not known (it is asked again on
    /// the next call).
    pub(crate) fn rank_new(&mut self, rank: impl Fn(&Tracked) -> Option<Rank>) {
        let ids: Vec<String> = self.unranked.iter().cloned().collect();
        for id in ids {
            let Some(tracked) = self.by_id.get_mut(&id) else {
                self.unranked.remove(&id);
                continue;
            };
            let Some(new) = rank(tracked) else { continue };
            self.eligible
                .remove(&(tracked.rank, tracked.created, id.clone()));
            tracked.rank = new;
            self.eligible.insert((new, tracked.created, id.clone()));
            self.unranked.remove(&id);
        }
    }

    /// The eligible messages, in the order passes look at them.
    pub(crate) fn waiting(&self) -> impl Iterator<Item = (&str, &Tracked)> {
        self.eligible
            .iter()
            .filter_map(|(_, _, id)| self.by_id.get(id).map(|t| (id.as_str(), t)))
    }

    /// The untaken messages in any order.
    pub(crate) fn untaken(&self) -> impl Iterator<Item = &Tracked> {
        self.by_id.values().filter(|t| !t.taken)
    }

    /// Removes an untaken message from its replica's queue and from the
    /// eligible ones; the replica's next message becomes eligible.
    fn leave_queue(&mut self, id: &str) {
        let Some(tracked) = self.by_id.get(id) else {
            return;
        };
        let (created, replica) = (tracked.created, tracked.replica().cloned());
        self.make_ineligible(id);
        let Some(replica) = replica else { return };
        let Some(queue) = self.queues.get_mut(&replica) else {
            return;
        };
        let was_head = queue.first().is_some_and(|(_, head)| head == id);
        queue.remove(&(created, id.to_owned()));
        if queue.is_empty() {
            self.queues.remove(&replica);
        } else if was_head {
            self.promote_head(&replica);
        }
    }

    fn promote_head(&mut self, replica: &Replica) {
        let head = self
            .queues
            .get(replica)
            .and_then(|q| q.first())
            .map(|(_, head)| head.clone());
        if let Some(head) = head {
            self.make_eligible(&head);
        }
    }

    fn make_eligible(&mut self, id: &str) {
        let Some(tracked) = self.by_id.get_mut(id) else {
            return;
        };
        if tracked.replica().is_some() {
            tracked.rank = Rank::UNRANKED;
            self.unranked.insert(id.to_owned());
        } else {
            tracked.rank = Rank::DISCARD;
        }
        self.eligible
            .insert((tracked.rank, tracked.created, id.to_owned()));
    }

    fn make_ineligible(&mut self, id: &str) {
        if let Some(tracked) = self.by_id.get(id) {
            self.eligible
                .remove(&(tracked.rank, tracked.created, id.to_owned()));
        }
        self.unranked.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use strand_model::ZNRecord;

    use super::*;
    use crate::classify::Transition;

    fn discard(created: i64) -> Tracked {
        let mut record = ZNRecord::new("m");
        record.set_simple("CREATE_TIMESTAMP", created.to_string());
        Tracked::new(Message::from(record), Shape::Discard("no_op", None), 0)
    }

    fn transition(created: i64, partition: &str, from: &str, to: &str) -> Tracked {
        let mut tracked = discard(created);
        tracked.shape = Shape::Transition(Box::new(Transition {
            key: ("db".into(), partition.into()),
            from: from.into(),
            to: to.into(),
            model: "MasterSlave".into(),
            factory: "DEFAULT".into(),
            read: false,
        }));
        tracked
    }

    fn waiting(inbox: &Inbox) -> Vec<&str> {
        inbox.waiting().map(|(id, _)| id).collect()
    }

    /// MasterSlave's priority list: MASTER-SLAVE, SLAVE-MASTER,
    /// OFFLINE-SLAVE, SLAVE-OFFLINE, OFFLINE-DROPPED.
    fn master_slave(tracked: &Tracked) -> Option<Rank> {
        let Shape::Transition(t) = &tracked.shape else {
            return None;
        };
        let order = match (t.from.as_str(), t.to.as_str()) {
            ("MASTER", "SLAVE") => 0,
            ("SLAVE", "MASTER") => 1,
            ("OFFLINE", "SLAVE") => 2,
            _ => 3,
        };
        let urgency = if order < 2 {
            Urgency::Handoff
        } else {
            Urgency::Routine
        };
        Some(Rank { order, urgency })
    }

    #[test]
    fn passes_see_untaken_messages_oldest_first() {
        let mut inbox = Inbox::default();
        inbox.insert("c".into(), discard(3));
        inbox.insert("a".into(), discard(1));
        inbox.insert("b".into(), discard(2));
        assert_eq!(waiting(&inbox), ["a", "b", "c"]);
        inbox.take("b");
        assert_eq!(waiting(&inbox), ["a", "c"]);
        inbox.gone("b");
        assert!(
            inbox.contains("b"),
            "a taken message stays until its task ends"
        );
        inbox.forget("b");
        assert!(!inbox.contains("b"));
        let present: HashSet<&String> = HashSet::new();
        inbox.retain_present(&present);
        assert!(waiting(&inbox).is_empty());
    }

    #[test]
    fn a_handoff_goes_before_older_bootstraps() {
        let mut inbox = Inbox::default();
        for (i, partition) in ["db_0", "db_1", "db_2"].into_iter().enumerate() {
            let id = format!("boot{i}");
            inbox.insert(id, transition(i as i64, partition, "OFFLINE", "SLAVE"));
        }
        inbox.insert("promote".into(), transition(9, "db_7", "SLAVE", "MASTER"));
        assert_eq!(
            waiting(&inbox),
            ["boot0", "boot1", "boot2", "promote"],
            "unranked: creation order"
        );
        inbox.rank_new(master_slave);
        assert_eq!(waiting(&inbox), ["promote", "boot0", "boot1", "boot2"]);
        let (_, first) = inbox.waiting().next().expect("a message");
        assert_eq!(first.rank.urgency, Urgency::Handoff);
    }

    #[test]
    fn a_replica_s_messages_stay_in_creation_order() {
        let mut inbox = Inbox::default();
        inbox.insert("boot".into(), transition(1, "db_0", "OFFLINE", "SLAVE"));
        inbox.insert("promote".into(), transition(2, "db_0", "SLAVE", "MASTER"));
        inbox.insert("other".into(), transition(3, "db_1", "OFFLINE", "SLAVE"));
        inbox.rank_new(master_slave);
        assert_eq!(
            waiting(&inbox),
            ["boot", "other"],
            "the promotion waits for its replica's older message"
        );
        inbox.take("boot");
        assert_eq!(waiting(&inbox), ["other", "promote"], "not ranked yet");
        inbox.rank_new(master_slave);
        assert_eq!(waiting(&inbox), ["promote", "other"]);
        inbox.forget("boot");
        inbox.gone("promote");
        assert_eq!(waiting(&inbox), ["other"]);
    }

    #[test]
    fn an_older_message_read_later_goes_first_for_its_replica() {
        let mut inbox = Inbox::default();
        inbox.insert("newer".into(), transition(5, "db_0", "SLAVE", "MASTER"));
        inbox.rank_new(master_slave);
        inbox.insert("older".into(), transition(1, "db_0", "OFFLINE", "SLAVE"));
        assert_eq!(waiting(&inbox), ["older"]);
        inbox.forget("older");
        assert_eq!(waiting(&inbox), ["newer"]);
    }

    #[test]
    fn a_message_whose_model_is_unknown_waits_unranked() {
        let mut inbox = Inbox::default();
        inbox.insert("x".into(), transition(1, "db_0", "SLAVE", "MASTER"));
        inbox.rank_new(|_| None);
        inbox.insert("y".into(), transition(2, "db_1", "OFFLINE", "SLAVE"));
        inbox.rank_new(master_slave);
        assert_eq!(waiting(&inbox), ["x", "y"]);
        inbox.rank_new(|_| None);
        assert_eq!(waiting(&inbox), ["x", "y"], "ranked once");
    }
}
