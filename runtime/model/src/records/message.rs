//! [`Message`] — `/<C>/INSTANCES/<I>/MESSAGES/<id>` (and `/<C>/CONTROLLER/MESSAGES`):
//! state transitions and other commands, with every attribute of Helix's
//! `Message.Attributes`, the `MSG_TYPE` / `MSG_STATE` spellings, and a constructor for
//! the controller's state-transition messages.

use super::typed_record;
use crate::error::ModelError;
use crate::session::SessionId;
use crate::znrecord::{FieldMap, ZNRecord};

/// Helix's `RELAY_MESSAGE_DEFAULT_EXPIRY`: how long a relayed message may
/// wait to be forwarded, in ms.
pub const RELAY_MESSAGE_DEFAULT_EXPIRY_MS: i64 = 5000;

/// Message attribute keys (Helix `Message.Attributes`, exact spellings).
pub mod keys {
    /// Message id (also the record id and znode name).
    pub const MSG_ID: &str = "MSG_ID";
    /// Id of the message this one was relayed from.
    pub const RELAY_MSG_ID: &str = "RELAY_MSG_ID";
    /// Sender's session.
    pub const SRC_SESSION_ID: &str = "SRC_SESSION_ID";
    /// Target's session (`*` = any).
    pub const TGT_SESSION_ID: &str = "TGT_SESSION_ID";
    /// Sender name.
    pub const SRC_NAME: &str = "SRC_NAME";
    /// Target instance name.
    pub const TGT_NAME: &str = "TGT_NAME";
    /// Sender instance type.
    pub const SRC_INSTANCE_TYPE: &str = "SRC_INSTANCE_TYPE";
    /// `new` | `read` | `unprocessable` (lowercase).
    pub const MSG_STATE: &str = "MSG_STATE";
    /// Partition (SF), or partitions (LF) for batch messages.
    pub const PARTITION_NAME: &str = "PARTITION_NAME";
    /// Resource.
    pub const RESOURCE_NAME: &str = "RESOURCE_NAME";
    /// Resource group.
    pub const RESOURCE_GROUP_NAME: &str = "RESOURCE_GROUP_NAME";
    /// Resource tag.
    pub const RESOURCE_TAG: &str = "RESOURCE_TAG";
    /// Transition source state.
    pub const FROM_STATE: &str = "FROM_STATE";
    /// Transition target state.
    pub const TO_STATE: &str = "TO_STATE";
    /// State model definition.
    pub const STATE_MODEL_DEF: &str = "STATE_MODEL_DEF";
    /// Creation time, ms.
    pub const CREATE_TIMESTAMP: &str = "CREATE_TIMESTAMP";
    /// Completion deadline, ms.
    pub const COMPLETION_DUE_TIMESTAMP: &str = "COMPLETION_DUE_TIMESTAMP";
    /// When the target read it, ms.
    pub const READ_TIMESTAMP: &str = "READ_TIMESTAMP";
    /// When execution started, ms.
    pub const EXECUTE_START_TIMESTAMP: &str = "EXECUTE_START_TIMESTAMP";
    /// Message type.
    pub const MSG_TYPE: &str = "MSG_TYPE";
    /// Message subtype.
    pub const MSG_SUBTYPE: &str = "MSG_SUBTYPE";
    /// Correlation id (a reply is sent when set).
    pub const CORRELATION_ID: &str = "CORRELATION_ID";
    /// MF result of a task.
    pub const MESSAGE_RESULT: &str = "MESSAGE_RESULT";
    /// Session that executed it.
    pub const EXE_SESSION_ID: &str = "EXE_SESSION_ID";
    /// Timeout, ms.
    pub const TIMEOUT: &str = "TIMEOUT";
    /// Retries left on timeout.
    pub const RETRY_COUNT: &str = "RETRY_COUNT";
    /// State model factory.
    pub const STATE_MODEL_FACTORY_NAME: &str = "STATE_MODEL_FACTORY_NAME";
    /// Bucket size of the current state to write.
    pub const BUCKET_SIZE: &str = "BUCKET_SIZE";
    /// Parent message id.
    pub const PARENT_MSG_ID: &str = "PARENT_MSG_ID";
    /// Controller event that produced it (mixed case in Helix).
    pub const CLUSTER_EVENT_NAME: &str = "ClusterEventName";
    /// MF inner message.
    pub const INNER_MESSAGE: &str = "INNER_MESSAGE";
    /// LF relay targets.
    pub const RELAY_PARTICIPANTS: &str = "RELAY_PARTICIPANTS";
    /// When relayed, ms.
    pub const RELAY_TIME: &str = "RELAY_TIME";
    /// Relaying host.
    pub const RELAY_FROM: &str = "RELAY_FROM";
    /// Relay expiry, ms (default 5000).
    pub const EXPIRY_PERIOD: &str = "EXPIRY_PERIOD";
    /// Source cluster.
    pub const SRC_CLUSTER: &str = "SRC_CLUSTER";
    /// `LOAD_REBALANCE` | `RECOVERY_REBALANCE`.
    pub const ST_REBALANCE_TYPE: &str = "ST_REBALANCE_TYPE";
    /// Active replicas when an upward transition was generated (-1 otherwise).
    pub const CURRENT_ACTIVE_REPLICA_NUMBER: &str = "CURRENT_ACTIVE_REPLICA_NUMBER";
    /// `"true"` for batch messages.
    pub const BATCH_MESSAGE_MODE: &str = "BATCH_MESSAGE_MODE";
}

/// `TGT_SESSION_ID` meaning any session.
pub const ANY_SESSION: &str = "*";

/// Default `RETRY_COUNT` of controller state-transition messages.
pub const DEFAULT_RETRY_COUNT: i32 = 3;

/// `MSG_TYPE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageType {
    /// `STATE_TRANSITION`.
    StateTransition,
    /// `STATE_TRANSITION_CANCELLATION`.
    StateTransitionCancellation,
    /// `SCHEDULER_MSG`.
    SchedulerMsg,
    /// `USER_DEFINE_MSG`.
    UserDefineMsg,
    /// `CONTROLLER_MSG`.
    ControllerMsg,
    /// `TASK_REPLY`.
    TaskReply,
    /// `NO_OP`.
    NoOp,
    /// `PARTICIPANT_ERROR_REPORT`.
    ParticipantErrorReport,
    /// `PARTICIPANT_SESSION_CHANGE`.
    ParticipantSessionChange,
    /// `PARTICIPANT_STATUS_CHANGE`.
    ParticipantStatusChange,
    /// `CHAINED_MESSAGE` (a subtype).
    ChainedMessage,
    /// `RELAYED_MESSAGE` (a subtype).
    RelayedMessage,
    /// Any other (user) type, verbatim.
    Other(String),
}

impl MessageType {
    const NAMES: [(&'static str, MessageType); 12] = [
        ("STATE_TRANSITION", MessageType::StateTransition),
        (
            "STATE_TRANSITION_CANCELLATION",
            MessageType::StateTransitionCancellation,
        ),
        ("SCHEDULER_MSG", MessageType::SchedulerMsg),
        ("USER_DEFINE_MSG", MessageType::UserDefineMsg),
        ("CONTROLLER_MSG", MessageType::ControllerMsg),
        ("TASK_REPLY", MessageType::TaskReply),
        ("NO_OP", MessageType::NoOp),
        (
            "PARTICIPANT_ERROR_REPORT",
            MessageType::ParticipantErrorReport,
        ),
        (
            "PARTICIPANT_SESSION_CHANGE",
            MessageType::ParticipantSessionChange,
        ),
        (
            "PARTICIPANT_STATUS_CHANGE",
            MessageType::ParticipantStatusChange,
        ),
        ("CHAINED_MESSAGE", MessageType::ChainedMessage),
        ("RELAYED_MESSAGE", MessageType::RelayedMessage),
    ];

    /// The Helix spelling.
    pub fn as_str(&self) -> &str {
        if let MessageType::Other(s) = self {
            return s;
        }
        MessageType::NAMES
            .iter()
            .find(|(_, t)| t == self)
            .map_or("", |(name, _)| name)
    }

    /// The Helix spelling of a type Helix defines; `None` for
    /// [`MessageType::Other`] (a label set that input cannot grow).
    pub fn standard_name(&self) -> Option<&'static str> {
        MessageType::NAMES
            .iter()
            .find(|(_, t)| t == self)
            .map(|(name, _)| *name)
    }

    /// Parse (exact spelling; unknown types become [`MessageType::Other`]).
    pub fn parse(value: &str) -> Self {
        MessageType::NAMES
            .iter()
            .find(|(name, _)| *name == value)
            .map_or_else(|| MessageType::Other(value.to_string()), |(_, t)| t.clone())
    }
}

/// `MSG_STATE`: written lowercase, read case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageState {
    /// `new`.
    New,
    /// `read`.
    Read,
    /// `unprocessable`.
    Unprocessable,
}

impl MessageState {
    /// The spelling Helix writes (lowercase).
    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::New => "new",
            MessageState::Read => "read",
            MessageState::Unprocessable => "unprocessable",
        }
    }

    /// Parse case-insensitively.
    pub fn parse(value: &str) -> Option<Self> {
        [
            MessageState::New,
            MessageState::Read,
            MessageState::Unprocessable,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(value.trim()))
    }
}

/// `ST_REBALANCE_TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebalanceType {
    /// `LOAD_REBALANCE`.
    LoadRebalance,
    /// `RECOVERY_REBALANCE`.
    RecoveryRebalance,
}

impl RebalanceType {
    /// The Helix spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RebalanceType::LoadRebalance => "LOAD_REBALANCE",
            RebalanceType::RecoveryRebalance => "RECOVERY_REBALANCE",
        }
    }

    /// Parse the Helix spelling.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "LOAD_REBALANCE" => Some(RebalanceType::LoadRebalance),
            "RECOVERY_REBALANCE" => Some(RebalanceType::RecoveryRebalance),
            _ => None,
        }
    }
}

/// Everything a controller state-transition message carries. Optional parts are
/// written only when set (`BUCKET_SIZE` only when > 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateTransitionSpec {
    /// `MSG_ID` (a random UUID in Helix).
    pub msg_id: String,
    /// `CREATE_TIMESTAMP` (ms).
    pub create_timestamp: i64,
    /// `SRC_NAME`: the controller's instance name.
    pub src_name: String,
    /// `SRC_SESSION_ID`: the controller's session.
    pub src_session_id: SessionId,
    /// `TGT_NAME`: the participant.
    pub tgt_name: String,
    /// `TGT_SESSION_ID`: the participant's live session.
    pub tgt_session_id: SessionId,
    /// `RESOURCE_NAME`.
    pub resource: String,
    /// `PARTITION_NAME`.
    pub partition: String,
    /// `FROM_STATE`.
    pub from_state: String,
    /// `TO_STATE`.
    pub to_state: String,
    /// `STATE_MODEL_DEF`.
    pub state_model_def: String,
    /// `STATE_MODEL_FACTORY_NAME`.
    pub state_model_factory_name: String,
    /// `CURRENT_ACTIVE_REPLICA_NUMBER` (-1 unless an upward transition into an active state).
    pub current_active_replica_number: i32,
    /// `ClusterEventName`, e.g. `CurrentStateChange`.
    pub cluster_event_name: String,
    /// `RETRY_COUNT` (Helix: 3).
    pub retry_count: i32,
    /// `ST_REBALANCE_TYPE`.
    pub rebalance_type: Option<RebalanceType>,
    /// `BUCKET_SIZE` (written only when > 0).
    pub bucket_size: i32,
    /// `RESOURCE_GROUP_NAME`.
    pub resource_group_name: Option<String>,
    /// `RESOURCE_TAG`.
    pub resource_tag: Option<String>,
    /// `TIMEOUT` (ms).
    pub timeout: Option<i64>,
}

typed_record! {
    /// Message (id = `MSG_ID`).
    Message
}

impl Message {
    /// What Helix's `new Message(type, id)` holds: `MSG_TYPE`, `MSG_ID`, `MSG_STATE`=`new`,
    /// `CREATE_TIMESTAMP`.
    pub fn new(msg_type: &MessageType, msg_id: &str, create_timestamp: i64) -> Self {
        let mut record = ZNRecord::new(msg_id);
        record.set_simple(keys::MSG_TYPE, msg_type.as_str());
        record.set_simple(keys::MSG_ID, msg_id);
        record.set_simple(keys::MSG_STATE, MessageState::New.as_str());
        record.set_simple(keys::CREATE_TIMESTAMP, create_timestamp.to_string());
        Message::from(record)
    }

    /// A controller state-transition message, shaped exactly like Helix's.
    pub fn state_transition(spec: &StateTransitionSpec) -> Self {
        let mut m = Message::new(
            &MessageType::StateTransition,
            &spec.msg_id,
            spec.create_timestamp,
        );
        let r = m.record_mut();
        r.set_simple(keys::SRC_NAME, spec.src_name.as_str());
        r.set_simple(keys::SRC_SESSION_ID, spec.src_session_id.to_string());
        r.set_simple(keys::TGT_NAME, spec.tgt_name.as_str());
        r.set_simple(keys::TGT_SESSION_ID, spec.tgt_session_id.to_string());
        r.set_simple(keys::RESOURCE_NAME, spec.resource.as_str());
        r.set_simple(keys::PARTITION_NAME, spec.partition.as_str());
        r.set_simple(keys::FROM_STATE, spec.from_state.as_str());
        r.set_simple(keys::TO_STATE, spec.to_state.as_str());
        r.set_simple(keys::STATE_MODEL_DEF, spec.state_model_def.as_str());
        r.set_simple(
            keys::STATE_MODEL_FACTORY_NAME,
            spec.state_model_factory_name.as_str(),
        );
        r.set_simple(
            keys::CURRENT_ACTIVE_REPLICA_NUMBER,
            spec.current_active_replica_number.to_string(),
        );
        r.set_simple(keys::CLUSTER_EVENT_NAME, spec.cluster_event_name.as_str());
        r.set_simple(keys::RETRY_COUNT, spec.retry_count.to_string());
        if let Some(t) = spec.rebalance_type {
            r.set_simple(keys::ST_REBALANCE_TYPE, t.as_str());
        }
        if spec.bucket_size > 0 {
            r.set_simple(keys::BUCKET_SIZE, spec.bucket_size.to_string());
        }
        if let Some(g) = &spec.resource_group_name {
            r.set_simple(keys::RESOURCE_GROUP_NAME, g.as_str());
        }
        if let Some(t) = &spec.resource_tag {
            r.set_simple(keys::RESOURCE_TAG, t.as_str());
        }
        if let Some(t) = spec.timeout {
            r.set_simple(keys::TIMEOUT, t.to_string());
        }
        m
    }

    /// A simple attribute by key.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.0.simple(key)
    }

    /// `MSG_ID` (falls back to the record id).
    pub fn msg_id(&self) -> &str {
        self.0.simple(keys::MSG_ID).unwrap_or(&self.0.id)
    }

    /// `MSG_TYPE` (`None` if absent).
    pub fn msg_type(&self) -> Option<MessageType> {
        self.0.simple(keys::MSG_TYPE).map(MessageType::parse)
    }

    /// `MSG_SUBTYPE`.
    pub fn msg_subtype(&self) -> Option<&str> {
        self.0.simple(keys::MSG_SUBTYPE)
    }

    /// `MSG_STATE` (read case-insensitively; `None` if absent or unknown).
    pub fn msg_state(&self) -> Option<MessageState> {
        self.0.simple(keys::MSG_STATE).and_then(MessageState::parse)
    }

    /// Set `MSG_STATE` (lowercase).
    pub fn set_msg_state(&mut self, state: MessageState) {
        self.record_mut()
            .set_simple(keys::MSG_STATE, state.as_str());
    }

    /// What the participant writes when it picks a message up: `MSG_STATE`=`read`,
    /// `READ_TIMESTAMP`, `EXE_SESSION_ID`.
    pub fn mark_read(&mut self, now_ms: i64, executing_session: SessionId) {
        self.set_msg_state(MessageState::Read);
        self.record_mut()
            .set_simple(keys::READ_TIMESTAMP, now_ms.to_string());
        self.record_mut()
            .set_simple(keys::EXE_SESSION_ID, executing_session.to_string());
    }

    /// `SRC_NAME`.
    pub fn src_name(&self) -> Option<&str> {
        self.0.simple(keys::SRC_NAME)
    }

    /// `TGT_NAME`.
    pub fn tgt_name(&self) -> Option<&str> {
        self.0.simple(keys::TGT_NAME)
    }

    /// `SRC_SESSION_ID` as written.
    pub fn src_session_id(&self) -> Option<&str> {
        self.0.simple(keys::SRC_SESSION_ID)
    }

    /// `TGT_SESSION_ID` as written (`*` = any session).
    pub fn tgt_session_id(&self) -> Option<&str> {
        self.0.simple(keys::TGT_SESSION_ID)
    }

    /// Whether the message is addressed to `session` (equal, or `*`).
    pub fn is_for_session(&self, session: SessionId) -> bool {
        match self.tgt_session_id() {
            Some(ANY_SESSION) => true,
            Some(s) => SessionId::parse(s).is_ok_and(|s| s == session),
            None => false,
        }
    }

    /// `EXE_SESSION_ID`.
    pub fn exe_session_id(&self) -> Option<&str> {
        self.0.simple(keys::EXE_SESSION_ID)
    }

    /// `FROM_STATE`.
    pub fn from_state(&self) -> Option<&str> {
        self.0.simple(keys::FROM_STATE)
    }

    /// `TO_STATE`.
    pub fn to_state(&self) -> Option<&str> {
        self.0.simple(keys::TO_STATE)
    }

    /// `RESOURCE_NAME`.
    pub fn resource_name(&self) -> Option<&str> {
        self.0.simple(keys::RESOURCE_NAME)
    }

    /// `PARTITION_NAME` (SF).
    pub fn partition_name(&self) -> Option<&str> {
        self.0.simple(keys::PARTITION_NAME)
    }

    /// The partitions addressed: LF `PARTITION_NAME` for batch messages, else the SF.
    pub fn partition_names(&self) -> Vec<&str> {
        if self.batch_message_mode()
            && let Some(list) = self.0.list(keys::PARTITION_NAME)
        {
            return list.iter().map(String::as_str).collect();
        }
        self.partition_name().into_iter().collect()
    }

    /// `BATCH_MESSAGE_MODE` (default false).
    pub fn batch_message_mode(&self) -> bool {
        self.0
            .simple_bool(keys::BATCH_MESSAGE_MODE)
            .unwrap_or(false)
    }

    /// `STATE_MODEL_DEF`.
    pub fn state_model_def(&self) -> Option<&str> {
        self.0.simple(keys::STATE_MODEL_DEF)
    }

    /// `STATE_MODEL_FACTORY_NAME`.
    pub fn state_model_factory_name(&self) -> Option<&str> {
        self.0.simple(keys::STATE_MODEL_FACTORY_NAME)
    }

    /// `RESOURCE_GROUP_NAME`.
    pub fn resource_group_name(&self) -> Option<&str> {
        self.0.simple(keys::RESOURCE_GROUP_NAME)
    }

    /// `RESOURCE_TAG`.
    pub fn resource_tag(&self) -> Option<&str> {
        self.0.simple(keys::RESOURCE_TAG)
    }

    /// `CREATE_TIMESTAMP` (ms).
    pub fn create_timestamp(&self) -> Option<i64> {
        self.0.simple_parsed(keys::CREATE_TIMESTAMP)
    }

    /// `READ_TIMESTAMP` (ms).
    pub fn read_timestamp(&self) -> Option<i64> {
        self.0.simple_parsed(keys::READ_TIMESTAMP)
    }

    /// `EXECUTE_START_TIMESTAMP` (ms).
    pub fn execute_start_timestamp(&self) -> Option<i64> {
        self.0.simple_parsed(keys::EXECUTE_START_TIMESTAMP)
    }

    /// Set `EXECUTE_START_TIMESTAMP`.
    pub fn set_execute_start_timestamp(&mut self, ms: i64) {
        self.record_mut()
            .set_simple(keys::EXECUTE_START_TIMESTAMP, ms.to_string());
    }

    /// `COMPLETION_DUE_TIMESTAMP`, defaulting to `CREATE_TIMESTAMP` + 1 day as in Helix.
    pub fn completion_due_timestamp(&self) -> Option<i64> {
        self.0
            .simple_parsed(keys::COMPLETION_DUE_TIMESTAMP)
            .or_else(|| self.create_timestamp().map(|t| t + 24 * 3600 * 1000))
    }

    /// `TIMEOUT` in ms (`None` if absent, unparsable or ≤ 0 … Helix treats ≤ 0 as none).
    pub fn timeout(&self) -> Option<i64> {
        self.0
            .simple_parsed::<i64>(keys::TIMEOUT)
            .filter(|t| *t > 0)
    }

    /// `RETRY_COUNT` (0 if absent).
    pub fn retry_count(&self) -> i32 {
        self.0.simple_parsed(keys::RETRY_COUNT).unwrap_or(0)
    }

    /// Set `RETRY_COUNT`.
    pub fn set_retry_count(&mut self, n: i32) {
        self.record_mut()
            .set_simple(keys::RETRY_COUNT, n.to_string());
    }

    /// `CORRELATION_ID`.
    pub fn correlation_id(&self) -> Option<&str> {
        self.0.simple(keys::CORRELATION_ID)
    }

    /// `BUCKET_SIZE` (0 if absent).
    pub fn bucket_size(&self) -> i32 {
        self.0.simple_parsed(keys::BUCKET_SIZE).unwrap_or(0)
    }

    /// `ClusterEventName`.
    pub fn cluster_event_name(&self) -> Option<&str> {
        self.0.simple(keys::CLUSTER_EVENT_NAME)
    }

    /// `CURRENT_ACTIVE_REPLICA_NUMBER` (-1 if absent).
    pub fn current_active_replica_number(&self) -> i32 {
        self.0
            .simple_parsed(keys::CURRENT_ACTIVE_REPLICA_NUMBER)
            .unwrap_or(-1)
    }

    /// `ST_REBALANCE_TYPE`.
    pub fn rebalance_type(&self) -> Option<RebalanceType> {
        self.0
            .simple(keys::ST_REBALANCE_TYPE)
            .and_then(RebalanceType::parse)
    }

    /// Set `ST_REBALANCE_TYPE`.
    pub fn set_rebalance_type(&mut self, rebalance_type: RebalanceType) {
        self.record_mut()
            .set_simple(keys::ST_REBALANCE_TYPE, rebalance_type.as_str());
    }

    /// MF `MESSAGE_RESULT`.
    pub fn result(&self) -> Option<&FieldMap> {
        self.0.map(keys::MESSAGE_RESULT)
    }

    /// LF `RELAY_PARTICIPANTS`.
    pub fn relay_participants(&self) -> &[String] {
        self.0.list(keys::RELAY_PARTICIPANTS).unwrap_or_default()
    }

    /// The relay message attached for `instance` (MF keyed by the instance holding the
    /// relay message's simple fields), as Helix's `getRelayMessage`.
    pub fn relay_message(&self, instance: &str) -> Option<Message> {
        let fields = self.0.map(instance)?;
        let id = fields.get(keys::MSG_ID)?;
        let mut record = ZNRecord::new(id.as_str());
        record.simple_fields = fields.clone();
        Some(Message::from(record))
    }

    /// Helix's `attachRelayMessage`: `relayed` goes to `instance` through
    /// this message's target once this transition is done — added to LF
    /// `RELAY_PARTICIPANTS`, its simple fields (with `RELAY_MSG_ID`,
    /// `MSG_SUBTYPE=RELAYED_MESSAGE`, `RELAY_FROM` = this target and
    /// `EXPIRY_PERIOD` = [`RELAY_MESSAGE_DEFAULT_EXPIRY_MS`]) as MF
    /// `instance`.
    pub fn attach_relay_message(&mut self, instance: &str, relayed: &Message) {
        let relay_from = self.tgt_name().unwrap_or_default().to_owned();
        let list = self.record_mut().list_mut(keys::RELAY_PARTICIPANTS);
        if !list.iter().any(|i| i == instance) {
            list.push(instance.to_owned());
        }
        let mut fields = relayed.0.simple_fields.clone();
        fields.insert(keys::RELAY_MSG_ID.into(), relayed.msg_id().to_owned());
        fields.insert(keys::MSG_SUBTYPE.into(), "RELAYED_MESSAGE".into());
        fields.insert(keys::RELAY_FROM.into(), relay_from);
        fields.insert(
            keys::EXPIRY_PERIOD.into(),
            RELAY_MESSAGE_DEFAULT_EXPIRY_MS.to_string(),
        );
        self.record_mut()
            .map_fields
            .insert(instance.to_owned(), fields);
    }

    /// `EXPIRY_PERIOD` in ms; `-1` (never expires) when absent, as Helix's
    /// `Message.getExpiryPeriod`. Relayed messages carry
    /// [`RELAY_MESSAGE_DEFAULT_EXPIRY_MS`].
    pub fn expiry_period(&self) -> i64 {
        self.0.simple_parsed(keys::EXPIRY_PERIOD).unwrap_or(-1)
    }

    /// `RELAY_TIME` (ms): when the relaying participant finished the
    /// transition the message rode on.
    pub fn relay_time(&self) -> Option<i64> {
        self.0.simple_parsed(keys::RELAY_TIME)
    }

    /// Helix's `isRelayMessage`: `MSG_SUBTYPE=RELAYED_MESSAGE` with a
    /// `RELAY_FROM`.
    pub fn is_relay_message(&self) -> bool {
        self.msg_subtype() == Some("RELAYED_MESSAGE") && self.0.simple(keys::RELAY_FROM).is_some()
    }

    /// Helix's `Message.isExpired` at `now_ms`: never with a negative
    /// period; a relayed message `RELAY_TIME + EXPIRY_PERIOD` after it was
    /// relayed (never before it is); any other `CREATE_TIMESTAMP +
    /// EXPIRY_PERIOD` after it was created.
    pub fn is_expired(&self, now_ms: i64) -> bool {
        let expiry = self.expiry_period();
        if expiry < 0 {
            return false;
        }
        if self.is_relay_message() {
            return self
                .relay_time()
                .is_some_and(|relayed| relayed > 0 && relayed.saturating_add(expiry) < now_ms);
        }
        self.create_timestamp().unwrap_or(0).saturating_add(expiry) < now_ms
    }

    /// Helix's `isValid`: state-transition and cancellation messages need non-empty
    /// `TGT_NAME`, `PARTITION_NAME`, `RESOURCE_NAME`, `STATE_MODEL_DEF`, `TO_STATE`,
    /// `FROM_STATE` and `TGT_SESSION_ID`; other types are always valid.
    pub fn validate(&self) -> Result<(), ModelError> {
        match self.msg_type() {
            Some(MessageType::StateTransition | MessageType::StateTransitionCancellation) => {}
            _ => return Ok(()),
        }
        let required = [
            keys::TGT_NAME,
            keys::PARTITION_NAME,
            keys::RESOURCE_NAME,
            keys::STATE_MODEL_DEF,
            keys::TO_STATE,
            keys::FROM_STATE,
            keys::TGT_SESSION_ID,
        ];
        for key in required {
            let present = if key == keys::PARTITION_NAME {
                self.partition_names().iter().any(|p| !p.is_empty())
            } else {
                self.0.simple(key).is_some_and(|v| !v.is_empty())
            };
            if !present {
                return Err(ModelError::MissingField {
                    record: "Message",
                    id: self.0.id.clone(),
                    field: key.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Whether [`Message::validate`] passes.
    pub fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_spell_like_helix() {
        assert_eq!(MessageType::parse("NO_OP"), MessageType::NoOp);
        assert_eq!(MessageType::NoOp.as_str(), "NO_OP");
        assert_eq!(
            MessageType::parse("MY_TYPE"),
            MessageType::Other("MY_TYPE".into())
        );
        assert_eq!(MessageType::Other("X".into()).as_str(), "X");
        for (i, (name, t)) in MessageType::NAMES.iter().enumerate() {
            assert_eq!(t.as_str(), *name, "entry {i}");
        }
        assert_eq!(MessageState::parse("READ"), Some(MessageState::Read));
        assert_eq!(MessageState::parse("New"), Some(MessageState::New));
        assert_eq!(MessageState::parse("x"), None);
        assert_eq!(MessageState::Unprocessable.as_str(), "unprocessable");
    }

    #[test]
    fn validity_and_sessions() {
        let mut m = Message::new(&MessageType::StateTransition, "m1", 10);
        assert!(matches!(m.validate(), Err(ModelError::MissingField { .. })));
        for key in [
            keys::TGT_NAME,
            keys::PARTITION_NAME,
            keys::RESOURCE_NAME,
            keys::STATE_MODEL_DEF,
            keys::TO_STATE,
            keys::FROM_STATE,
        ] {
            m.record_mut().set_simple(key, "x");
        }
        assert!(!m.is_valid());
        m.record_mut().set_simple(keys::TGT_SESSION_ID, "*");
        assert!(m.is_valid());
        assert!(m.is_for_session(SessionId(5)));
        m.record_mut().set_simple(keys::TGT_SESSION_ID, "abc");
        assert!(m.is_for_session(SessionId(0xabc)) && !m.is_for_session(SessionId(1)));
        assert!(Message::new(&MessageType::NoOp, "n", 0).is_valid());
        assert_eq!(m.completion_due_timestamp(), Some(10 + 86_400_000));
        assert_eq!(m.current_active_replica_number(), -1);
    }

    #[test]
    fn batch_and_relay() {
        let mut m = Message::new(&MessageType::StateTransition, "m1", 0);
        m.record_mut().set_simple(keys::PARTITION_NAME, "P0");
        assert_eq!(m.partition_names(), ["P0"]);
        m.record_mut().set_simple(keys::BATCH_MESSAGE_MODE, "true");
        m.record_mut().set_list(keys::PARTITION_NAME, ["P1", "P2"]);
        assert_eq!(m.partition_names(), ["P1", "P2"]);
        let relay = m.record_mut().map_mut("host_2");
        relay.insert(keys::MSG_ID.into(), "r1".into());
        relay.insert(keys::TO_STATE.into(), "MASTER".into());
        m.record_mut()
            .set_list(keys::RELAY_PARTICIPANTS, ["host_2"]);
        let r = m.relay_message("host_2").expect("attached");
        assert_eq!((r.id(), r.to_state()), ("r1", Some("MASTER")));
        assert_eq!(m.relay_participants(), ["host_2"]);
        assert_eq!(r.expiry_period(), -1, "no EXPIRY_PERIOD: never expires");
        assert!(!r.is_expired(i64::MAX));
    }

    #[test]
    fn expiry_as_helix_counts_it() {
        let mut m = Message::new(&MessageType::StateTransition, "m1", 1_000);
        m.record_mut().set_simple(keys::EXPIRY_PERIOD, "500");
        assert!(!m.is_expired(1_500) && m.is_expired(1_501), "from creation");
        m.record_mut()
            .set_simple(keys::MSG_SUBTYPE, "RELAYED_MESSAGE");
        assert!(m.is_expired(1_501), "no RELAY_FROM: not a relay message");
        m.record_mut().set_simple(keys::RELAY_FROM, "host_1");
        assert!(!m.is_expired(9_999), "relayed but no RELAY_TIME yet");
        m.record_mut().set_simple(keys::RELAY_TIME, "3000");
        assert!(
            !m.is_expired(3_500) && m.is_expired(3_501),
            "from the relay"
        );
        m.record_mut().set_simple(keys::EXPIRY_PERIOD, "-1");
        assert!(!m.is_expired(i64::MAX));
    }
}
