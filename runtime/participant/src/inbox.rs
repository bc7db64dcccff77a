//! [`Inbox`]: the messages one session knows of, each with its
//! [`Shape`], and the order in which passes look at those not taken yet
//! (oldest first), kept as messages come and go so that a pass neither
//! copies nor sorts the inbox.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use strand_model::Message;

use crate::classify::Shape;

/// A message this session knows of.
pub(crate) struct Tracked {
    pub message: Message,
    /// What the message asks for (classified once, when read).
    pub shape: Shape,
    /// The znode version read.
    pub version: i32,
    /// A task drives it to its end; the passes leave it alone.
    pub taken: bool,
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
        }
    }
}

/// The messages of one session by id, and the untaken ones in creation order.
#[derive(Default)]
pub(crate) struct Inbox {
    by_id: BTreeMap<String, Tracked>,
    /// Untaken messages, oldest first (Helix's comparator sorts newest
    /// first by mistake; creation order is what the controller meant).
    waiting: BTreeSet<(i64, String)>,
}

impl Inbox {
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    pub(crate) fn insert(&mut self, id: String, tracked: Tracked) {
        if let Some(old) = self.by_id.remove(&id) {
            self.waiting.remove(&(old.created, id.clone()));
        }
        if !tracked.taken {
            self.waiting.insert((tracked.created, id.clone()));
        }
        self.by_id.insert(id, tracked);
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
        if let Some(tracked) = self.by_id.get_mut(id) {
            tracked.taken = true;
            self.waiting.remove(&(tracked.created, id.to_owned()));
        }
    }

    /// Forgets a message (its task ended, or it is gone).
    pub(crate) fn forget(&mut self, id: &str) {
        if let Some(tracked) = self.by_id.remove(id) {
            self.waiting.remove(&(tracked.created, id.to_owned()));
        }
    }

    /// The untaken messages, oldest first.
    pub(crate) fn waiting(&self) -> impl Iterator<Item = (&str, &Tracked)> {
        self.waiting
            .iter()
            .filter_map(|(_, id)| self.by_id.get(id).map(|t| (id.as_str(), t)))
    }

    /// The untaken messages in any order.
    pub(crate) fn untaken(&self) -> impl Iterator<Item = &Tracked> {
        self.by_id.values().filter(|t| !t.taken)
    }
}

#[cfg(test)]
mod tests {
    use strand_model::ZNRecord;

    use super::*;

    fn tracked(created: i64) -> Tracked {
        let mut record = ZNRecord::new("m");
        record.set_simple("CREATE_TIMESTAMP", created.to_string());
        Tracked::new(Message::from(record), Shape::Discard(None), 0)
    }

    fn waiting(inbox: &Inbox) -> Vec<&str> {
        inbox.waiting().map(|(id, _)| id).collect()
    }

    #[test]
    fn passes_see_untaken_messages_oldest_first() {
        let mut inbox = Inbox::default();
        inbox.insert("c".into(), tracked(3));
        inbox.insert("a".into(), tracked(1));
        inbox.insert("b".into(), tracked(2));
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
}
