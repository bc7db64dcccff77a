//! [`PendingMessages`]: the state-transition messages a run must respect,
//! indexed by replica so that "does this replica have a pending message?"
//! costs a hash lookup, whatever the number of pending messages (a cold
//! start of 10,000 partitions × 3 replicas has tens of thousands).

use std::collections::{BTreeMap, HashMap};

use strand_model::Message;

/// Pending messages by target instance, in insertion order, with an index
/// from (instance, resource, partition) to the first message for that
/// replica.
#[derive(Debug, Clone, Default)]
pub struct PendingMessages {
    by_instance: BTreeMap<String, Vec<Message>>,
    /// instance → resource → partition → index into `by_instance[instance]`.
    by_replica: HashMap<String, HashMap<String, HashMap<String, usize>>>,
}

impl PendingMessages {
    /// Adds a message addressed to `instance`. A replica keeps the first
    /// message added for it as its pending one.
    pub fn insert(&mut self, instance: &str, message: Message) {
        let list = self.by_instance.entry(instance.to_owned()).or_default();
        let index = list.len();
        if let Some(resource) = message.resource_name() {
            let partitions = self
                .by_replica
                .entry(instance.to_owned())
                .or_default()
                .entry(resource.to_owned())
                .or_default();
            for partition in message.partition_names() {
                partitions.entry(partition.to_owned()).or_insert(index);
            }
        }
        list.push(message);
    }

    /// The pending message of one replica, if any.
    pub fn get(&self, instance: &str, resource: &str, partition: &str) -> Option<&Message> {
        let index = *self
            .by_replica
            .get(instance)?
            .get(resource)?
            .get(partition)?;
        self.by_instance.get(instance)?.get(index)
    }

    /// The messages addressed to `instance`, oldest insertion first.
    pub fn of_instance(&self, instance: &str) -> &[Message] {
        self.by_instance.get(instance).map_or(&[], Vec::as_slice)
    }

    /// Every message with its target instance.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Message)> {
        self.by_instance
            .iter()
            .flat_map(|(instance, list)| list.iter().map(move |m| (instance.as_str(), m)))
    }

    /// Removes the message with id `msg_id` addressed to `instance`;
    /// returns it.
    pub fn remove(&mut self, instance: &str, msg_id: &str) -> Option<Message> {
        let list = self.by_instance.get_mut(instance)?;
        let position = list.iter().position(|m| m.msg_id() == msg_id)?;
        let removed = list.remove(position);
        let rest = std::mem::take(list);
        self.by_instance.remove(instance);
        self.by_replica.remove(instance);
        for message in rest {
            self.insert(instance, message);
        }
        Some(removed)
    }

    /// Forgets every message addressed to `instance`.
    pub fn remove_instance(&mut self, instance: &str) {
        self.by_instance.remove(instance);
        self.by_replica.remove(instance);
    }

    /// Number of messages.
    pub fn len(&self) -> usize {
        self.by_instance.values().map(Vec::len).sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_instance.values().all(Vec::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strand_model::{SessionId, StateTransitionSpec};

    fn message(id: &str, partition: &str) -> Message {
        Message::state_transition(&StateTransitionSpec {
            msg_id: id.into(),
            create_timestamp: 1,
            src_name: "controller".into(),
            src_session_id: SessionId(1),
            tgt_name: "host_0".into(),
            tgt_session_id: SessionId(2),
            resource: "db".into(),
            partition: partition.into(),
            from_state: "OFFLINE".into(),
            to_state: "SLAVE".into(),
            state_model_def: "MasterSlave".into(),
            state_model_factory_name: "DEFAULT".into(),
            current_active_replica_number: -1,
            cluster_event_name: "Test".into(),
            retry_count: 3,
            rebalance_type: None,
            bucket_size: 0,
            resource_group_name: None,
            resource_tag: None,
            timeout: None,
        })
    }

    #[test]
    fn lookup_by_replica_keeps_the_first_message() {
        let mut pending = PendingMessages::default();
        pending.insert("host_0", message("a", "db_0"));
        pending.insert("host_0", message("b", "db_0"));
        pending.insert("host_0", message("c", "db_1"));
        assert_eq!(
            pending.get("host_0", "db", "db_0").map(Message::msg_id),
            Some("a")
        );
        assert_eq!(
            pending.get("host_0", "db", "db_1").map(Message::msg_id),
            Some("c")
        );
        assert!(pending.get("host_1", "db", "db_0").is_none());
        assert!(pending.get("host_0", "other", "db_0").is_none());
        assert_eq!(pending.len(), 3);
    }

    #[test]
    fn removal_reindexes_the_rest() {
        let mut pending = PendingMessages::default();
        pending.insert("host_0", message("a", "db_0"));
        pending.insert("host_0", message("b", "db_0"));
        pending.insert("host_0", message("c", "db_1"));
        assert_eq!(
            pending.remove("host_0", "a").map(|m| m.msg_id().to_owned()),
            Some("a".into())
        );
        assert_eq!(
            pending.get("host_0", "db", "db_0").map(Message::msg_id),
            Some("b")
        );
        assert_eq!(
            pending.get("host_0", "db", "db_1").map(Message::msg_id),
            Some("c")
        );
        assert!(pending.remove("host_0", "zzz").is_none());
        pending.remove_instance("host_0");
        assert!(pending.is_empty());
        assert!(pending.get("host_0", "db", "db_1").is_none());
    }
}
