//! What the unit tests of this crate share: a state-transition message of
//! resource `db` (MasterSlave) as a controller sends it.

use strand_model::{Message, SessionId, StateTransitionSpec};

/// Message `id`: `partition` of `db` on `instance`, `from → to`.
pub(crate) fn transition(
    id: &str,
    instance: &str,
    partition: &str,
    from: &str,
    to: &str,
) -> Message {
    Message::state_transition(&StateTransitionSpec {
        msg_id: id.into(),
        create_timestamp: 1,
        src_name: "controller".into(),
        src_session_id: SessionId(1),
        tgt_name: instance.into(),
        tgt_session_id: SessionId(2),
        resource: "db".into(),
        partition: partition.into(),
        from_state: from.into(),
        to_state: to.into(),
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
