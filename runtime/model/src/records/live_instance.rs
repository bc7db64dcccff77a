//! [`LiveInstance`] — the ephemeral `/<C>/LIVEINSTANCES/<I>` of a connected
//! participant, and the controller's `/<C>/CONTROLLER/LEADER` (same record type).

use super::typed_record;
use crate::session::SessionId;
use crate::znrecord::ZNRecord;

/// Simple-field keys of a LiveInstance (Helix spellings).
pub mod keys {
    /// Session id (hex). Readers prefer the znode's ephemeral owner, but it must be written.
    pub const SESSION_ID: &str = "SESSION_ID";
    /// Helix version of the node, e.g. `2.0.1`.
    pub const HELIX_VERSION: &str = "HELIX_VERSION";
    /// `<pid>@<hostname>`.
    pub const LIVE_INSTANCE: &str = "LIVE_INSTANCE";
    /// Legacy property-transfer URL.
    pub const ZKPROPERTYTRANSFERURL: &str = "ZKPROPERTYTRANSFERURL";
    /// Task thread-pool size the participant runs with.
    pub const CURRENT_TASK_THREAD_POOL_SIZE: &str = "CURRENT_TASK_THREAD_POOL_SIZE";
    /// `FROZEN` or `NORMAL` (absent = NORMAL).
    pub const STATUS: &str = "STATUS";
    /// MF resource capacity.
    pub const RESOURCE_CAPACITY: &str = "RESOURCE_CAPACITY";
}

/// `STATUS` of a live instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveInstanceStatus {
    /// `NORMAL` (also when absent).
    Normal,
    /// `FROZEN`: management mode, the participant keeps its states.
    Frozen,
}

typed_record! {
    /// LiveInstance (id = instance name, or the controller name for LEADER).
    LiveInstance
}

impl LiveInstance {
    /// A live-instance record as Helix writes it: `SESSION_ID`, `HELIX_VERSION`,
    /// `LIVE_INSTANCE` (`pid@host`).
    pub fn new(
        instance: impl Into<String>,
        session: SessionId,
        helix_version: &str,
        live_instance: &str,
    ) -> Self {
        let mut record = ZNRecord::new(instance);
        record.set_simple(keys::SESSION_ID, session.to_string());
        record.set_simple(keys::HELIX_VERSION, helix_version);
        record.set_simple(keys::LIVE_INSTANCE, live_instance);
        LiveInstance::from(record)
    }

    /// `SESSION_ID` as written.
    pub fn session_id_str(&self) -> Option<&str> {
        self.0.simple(keys::SESSION_ID)
    }

    /// `SESSION_ID` parsed (`None` if absent or not hex).
    pub fn session_id(&self) -> Option<SessionId> {
        self.session_id_str().and_then(|s| SessionId::parse(s).ok())
    }

    /// Set `SESSION_ID`.
    pub fn set_session_id(&mut self, session: SessionId) {
        self.record_mut()
            .set_simple(keys::SESSION_ID, session.to_string());
    }

    /// `HELIX_VERSION`.
    pub fn helix_version(&self) -> Option<&str> {
        self.0.simple(keys::HELIX_VERSION)
    }

    /// `LIVE_INSTANCE` (`pid@host`).
    pub fn live_instance(&self) -> Option<&str> {
        self.0.simple(keys::LIVE_INSTANCE)
    }

    /// `CURRENT_TASK_THREAD_POOL_SIZE`.
    pub fn current_task_thread_pool_size(&self) -> Option<i32> {
        self.0.simple_parsed(keys::CURRENT_TASK_THREAD_POOL_SIZE)
    }

    /// Set `CURRENT_TASK_THREAD_POOL_SIZE`.
    pub fn set_current_task_thread_pool_size(&mut self, size: i32) {
        self.record_mut()
            .set_simple(keys::CURRENT_TASK_THREAD_POOL_SIZE, size.to_string());
    }

    /// `STATUS` (absent or unknown = NORMAL).
    pub fn status(&self) -> LiveInstanceStatus {
        match self.0.simple(keys::STATUS) {
            Some("FROZEN") => LiveInstanceStatus::Frozen,
            _ => LiveInstanceStatus::Normal,
        }
    }

    /// Set or clear `STATUS` (NORMAL removes the field).
    pub fn set_status(&mut self, status: LiveInstanceStatus) {
        match status {
            LiveInstanceStatus::Frozen => self.record_mut().set_simple(keys::STATUS, "FROZEN"),
            LiveInstanceStatus::Normal => {
                self.record_mut().remove_simple(keys::STATUS);
            }
        }
    }

    /// Helix's validity check: a session id and a Helix version are present.
    pub fn is_valid(&self) -> bool {
        self.session_id_str().is_some_and(|s| !s.is_empty())
            && self.helix_version().is_some_and(|v| !v.is_empty())
    }
}
