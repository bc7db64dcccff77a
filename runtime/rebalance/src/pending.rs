//! [`PendingMessages`]: the state-transition messages a run must respect,
//! kept in the compact form the decisions need ([`PendingTransition`]) and
//! indexed both by replica — "does this replica have a pending message?"
//! is a hash lookup — and by message id, so the controller can add and
//! remove single messages as its cache reports them, whatever the number
//! pending (a cold start of 10,000 partitions × 3 replicas has tens of
//! thousands).

use std::collections::{BTreeMap, HashMap};

use strand_model::{Message, MessageType};

/// What the decisions need of one pending message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTransition {
    msg_id: String,
    resource: String,
    partitions: Vec<String>,
    from: Option<String>,
    to: Option<String>,
    created_ms: Option<i64>,
    cancellation: bool,
}

impl PendingTransition {
    /// The compact form of a state-transition (or cancellation) message;
    /// `None` for other message types and for messages without a resource.
    pub fn from_message(message: &Message) -> Option<Self> {
        let cancellation = match message.msg_type()? {
            MessageType::StateTransition => false,
            MessageType::StateTransitionCancellation => true,
            _ => return None,
        };
        Some(Self {
            msg_id: message.msg_id().to_owned(),
            resource: message.resource_name()?.to_owned(),
            partitions: message
                .partition_names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            from: message.from_state().map(str::to_owned),
            to: message.to_state().map(str::to_owned),
            created_ms: message.create_timestamp(),
            cancellation,
        })
    }

    /// `MSG_ID`.
    pub fn msg_id(&self) -> &str {
        &self.msg_id
    }

    /// `RESOURCE_NAME`.
    pub fn resource_name(&self) -> &str {
        &self.resource
    }

    /// The partitions it concerns (one, or several for a batch message).
    pub fn partition_names(&self) -> &[String] {
        &self.partitions
    }

    /// `FROM_STATE`.
    pub fn from_state(&self) -> Option<&str> {
        self.from.as_deref()
    }

    /// `TO_STATE`.
    pub fn to_state(&self) -> Option<&str> {
        self.to.as_deref()
    }

    /// `CREATE_TIMESTAMP` (ms).
    pub fn create_timestamp(&self) -> Option<i64> {
        self.created_ms
    }

    /// Whether it is a `STATE_TRANSITION_CANCELLATION`.
    pub fn is_cancellation(&self) -> bool {
        self.cancellation
    }
}

/// Pending messages, by target instance and message id, with an index from
/// (resource, partition, instance) to that replica's messages in insertion
/// order; the first one is the replica's pending message.
#[derive(Debug, Clone, Default)]
pub struct PendingMessages {
    by_id: HashMap<String, HashMap<String, PendingTransition>>,
    /// resource → partition → instance → message ids, oldest insertion first.
    by_replica: HashMap<String, HashMap<String, BTreeMap<String, Vec<String>>>>,
    len: usize,
}

impl PendingMessages {
    /// Adds a state-transition message addressed to `instance` (other
    /// messages are ignored). A message already known by id is replaced.
    pub fn insert(&mut self, instance: &str, message: &Message) {
        if let Some(pending) = PendingTransition::from_message(message) {
            self.insert_pending(instance, pending);
        }
    }

    /// Adds a pending transition addressed to `instance`; one already
    /// known by id is replaced.
    pub fn insert_pending(&mut self, instance: &str, pending: PendingTransition) {
        self.remove(instance, &pending.msg_id);
        let partitions = self.by_replica.entry(pending.resource.clone()).or_default();
        for partition in &pending.partitions {
            partitions
                .entry(partition.clone())
                .or_default()
                .entry(instance.to_owned())
                .or_default()
                .push(pending.msg_id.clone());
        }
        self.by_id
            .entry(instance.to_owned())
            .or_default()
            .insert(pending.msg_id.clone(), pending);
        self.len += 1;
    }

    /// The pending message of one replica, if any.
    pub fn get(
        &self,
        instance: &str,
        resource: &str,
        partition: &str,
    ) -> Option<&PendingTransition> {
        let id = self
            .by_replica
            .get(resource)?
            .get(partition)?
            .get(instance)?
            .first()?;
        self.by_id.get(instance)?.get(id)
    }

    /// The instances with a pending message for one replica of `partition`.
    pub fn instances_of(&self, resource: &str, partition: &str) -> impl Iterator<Item = &str> {
        self.by_replica
            .get(resource)
            .and_then(|partitions| partitions.get(partition))
            .into_iter()
            .flat_map(|instances| instances.keys().map(String::as_str))
    }

    /// The message with id `msg_id` addressed to `instance`.
    pub fn by_id(&self, instance: &str, msg_id: &str) -> Option<&PendingTransition> {
        self.by_id.get(instance)?.get(msg_id)
    }

    /// Whether any message concerns `resource`.
    pub fn has_resource(&self, resource: &str) -> bool {
        self.by_replica
            .get(resource)
            .is_some_and(|partitions| !partitions.is_empty())
    }

    /// Every message with its target instance.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &PendingTransition)> {
        self.by_id
            .iter()
            .flat_map(|(instance, messages)| messages.values().map(move |m| (instance.as_str(), m)))
    }

    /// The messages addressed to `instance`.
    pub fn of_instance(&self, instance: &str) -> impl Iterator<Item = &PendingTransition> {
        self.by_id
            .get(instance)
            .into_iter()
            .flat_map(|m| m.values())
    }

    /// Removes the message with id `msg_id` addressed to `instance`;
    /// returns it.
    pub fn remove(&mut self, instance: &str, msg_id: &str) -> Option<PendingTransition> {
        let messages = self.by_id.get_mut(instance)?;
        let removed = messages.remove(msg_id)?;
        if messages.is_empty() {
            self.by_id.remove(instance);
        }
        self.unindex(instance, &removed);
        self.len -= 1;
        Some(removed)
    }

    fn unindex(&mut self, instance: &str, pending: &PendingTransition) {
        let Some(partitions) = self.by_replica.get_mut(&pending.resource) else {
            return;
        };
        for partition in &pending.partitions {
            let Some(instances) = partitions.get_mut(partition) else {
                continue;
            };
            if let Some(ids) = instances.get_mut(instance) {
                ids.retain(|id| *id != pending.msg_id);
                if ids.is_empty() {
                    instances.remove(instance);
                }
            }
            if instances.is_empty() {
                partitions.remove(partition);
            }
        }
        if partitions.is_empty() {
            self.by_replica.remove(&pending.resource);
        }
    }

    /// Forgets every message addressed to `instance`.
    pub fn remove_instance(&mut self, instance: &str) {
        let Some(messages) = self.by_id.remove(instance) else {
            return;
        };
        self.len -= messages.len();
        for pending in messages.values() {
            self.unindex(instance, pending);
        }
    }

    /// Number of messages.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, partition: &str) -> Message {
        crate::test_support::transition(id, "host_0", partition, "OFFLINE", "SLAVE")
    }

    #[test]
    fn lookup_by_replica_keeps_the_first_message() {
        let mut pending = PendingMessages::default();
        pending.insert("host_0", &message("a", "db_0"));
        pending.insert("host_0", &message("b", "db_0"));
        pending.insert("host_0", &message("c", "db_1"));
        assert_eq!(
            pending
                .get("host_0", "db", "db_0")
                .map(PendingTransition::msg_id),
            Some("a")
        );
        assert_eq!(
            pending
                .get("host_0", "db", "db_1")
                .map(PendingTransition::msg_id),
            Some("c")
        );
        assert!(pending.get("host_1", "db", "db_0").is_none());
        assert!(pending.get("host_0", "other", "db_0").is_none());
        assert_eq!(pending.len(), 3);
        let first = pending.get("host_0", "db", "db_0").cloned();
        assert_eq!(first.as_ref().and_then(|p| p.from_state()), Some("OFFLINE"));
        assert_eq!(first.as_ref().and_then(|p| p.to_state()), Some("SLAVE"));
        assert_eq!(first.and_then(|p| p.create_timestamp()), Some(1));
    }

    #[test]
    fn removal_reindexes_the_rest() {
        let mut pending = PendingMessages::default();
        pending.insert("host_0", &message("a", "db_0"));
        pending.insert("host_0", &message("b", "db_0"));
        pending.insert("host_0", &message("c", "db_1"));
        assert_eq!(
            pending.remove("host_0", "a").map(|m| m.msg_id().to_owned()),
            Some("a".into())
        );
        assert_eq!(
            pending
                .get("host_0", "db", "db_0")
                .map(PendingTransition::msg_id),
            Some("b")
        );
        assert_eq!(
            pending
                .get("host_0", "db", "db_1")
                .map(PendingTransition::msg_id),
            Some("c")
        );
        assert!(pending.remove("host_0", "zzz").is_none());
        assert!(pending.has_resource("db"));
        pending.remove_instance("host_0");
        assert!(pending.is_empty());
        assert!(!pending.has_resource("db"));
        assert!(pending.get("host_0", "db", "db_1").is_none());
    }

    #[test]
    fn inserting_a_known_id_replaces_it() {
        let mut pending = PendingMessages::default();
        pending.insert("host_0", &message("a", "db_0"));
        pending.insert("host_0", &message("a", "db_0"));
        assert_eq!(pending.len(), 1);
        assert_eq!(pending.iter().count(), 1);
        assert_eq!(pending.of_instance("host_0").count(), 1);
    }

    #[test]
    fn other_message_types_are_not_pending() {
        let mut pending = PendingMessages::default();
        pending.insert("host_0", &Message::new(&MessageType::NoOp, "n", 1));
        assert!(pending.is_empty());
    }
}
