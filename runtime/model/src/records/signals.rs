//! Cluster-wide switches whose presence matters: [`PauseSignal`]
//! (`/<C>/CONTROLLER/PAUSE`) and [`MaintenanceSignal`] (`/<C>/CONTROLLER/MAINTENANCE`).

use super::typed_record;
use crate::znrecord::ZNRecord;

/// Simple-field keys of the signals (Helix spellings).
pub mod keys {
    /// Why the cluster was paused / put in maintenance.
    pub const REASON: &str = "REASON";
    /// Pause: freeze the cluster (management mode).
    pub const CLUSTER_FREEZE: &str = "CLUSTER_FREEZE";
    /// Pause: host that requested it.
    pub const FROM_HOST: &str = "FROM_HOST";
    /// Pause: cancel pending state transitions.
    pub const CANCEL_PENDING_ST: &str = "CANCEL_PENDING_ST";
    /// Pause: when it was triggered, ms.
    pub const TRIGGER_TIME: &str = "TRIGGER_TIME";
    /// Maintenance: `CONTROLLER` | `USER` | `UNKNOWN`.
    pub const TRIGGERED_BY: &str = "TRIGGERED_BY";
    /// Maintenance: when, ms.
    pub const TIMESTAMP: &str = "TIMESTAMP";
    /// Maintenance: why the controller entered it automatically.
    pub const AUTO_TRIGGER_REASON: &str = "AUTO_TRIGGER_REASON";
}

/// The id of the PAUSE record.
pub const PAUSE_ID: &str = "pause";
/// The id of the MAINTENANCE record.
pub const MAINTENANCE_ID: &str = "maintenance";

/// Who put the cluster into maintenance (`TRIGGERED_BY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggeringEntity {
    /// `CONTROLLER`.
    Controller,
    /// `USER`.
    User,
    /// `UNKNOWN`.
    Unknown,
}

impl TriggeringEntity {
    /// The Helix spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggeringEntity::Controller => "CONTROLLER",
            TriggeringEntity::User => "USER",
            TriggeringEntity::Unknown => "UNKNOWN",
        }
    }

    /// Parse a Helix spelling (anything else is UNKNOWN).
    pub fn parse(value: &str) -> Self {
        match value {
            "CONTROLLER" => TriggeringEntity::Controller,
            "USER" => TriggeringEntity::User,
            _ => TriggeringEntity::Unknown,
        }
    }
}

typed_record! {
    /// PauseSignal (id `pause`): its presence pauses the controller pipeline.
    PauseSignal
}

impl Default for PauseSignal {
    fn default() -> Self {
        PauseSignal::from(ZNRecord::new(PAUSE_ID))
    }
}

impl PauseSignal {
    /// A pause with a reason.
    pub fn new(reason: &str) -> Self {
        let mut signal = PauseSignal::default();
        signal.record_mut().set_simple(keys::REASON, reason);
        signal
    }

    /// `REASON`.
    pub fn reason(&self) -> Option<&str> {
        self.0.simple(keys::REASON)
    }

    /// `CLUSTER_FREEZE` (default false).
    pub fn cluster_freeze(&self) -> bool {
        self.0.simple_bool(keys::CLUSTER_FREEZE).unwrap_or(false)
    }

    /// `CANCEL_PENDING_ST` (default false).
    pub fn cancel_pending_st(&self) -> bool {
        self.0.simple_bool(keys::CANCEL_PENDING_ST).unwrap_or(false)
    }
}

typed_record! {
    /// MaintenanceSignal (id `maintenance`): its presence puts the cluster in
    /// maintenance mode; removing the znode exits it.
    MaintenanceSignal
}

impl Default for MaintenanceSignal {
    fn default() -> Self {
        MaintenanceSignal::from(ZNRecord::new(MAINTENANCE_ID))
    }
}

impl MaintenanceSignal {
    /// A maintenance signal with reason, trigger and time.
    pub fn new(reason: &str, triggered_by: TriggeringEntity, now_ms: i64) -> Self {
        let mut signal = MaintenanceSignal::default();
        signal.record_mut().set_simple(keys::REASON, reason);
        signal
            .record_mut()
            .set_simple(keys::TRIGGERED_BY, triggered_by.as_str());
        signal
            .record_mut()
            .set_simple(keys::TIMESTAMP, now_ms.to_string());
        signal
    }

    /// `REASON`.
    pub fn reason(&self) -> Option<&str> {
        self.0.simple(keys::REASON)
    }

    /// `TRIGGERED_BY` (absent = UNKNOWN).
    pub fn triggered_by(&self) -> TriggeringEntity {
        self.0
            .simple(keys::TRIGGERED_BY)
            .map_or(TriggeringEntity::Unknown, TriggeringEntity::parse)
    }

    /// `TIMESTAMP` (ms).
    pub fn timestamp(&self) -> Option<i64> {
        self.0.simple_parsed(keys::TIMESTAMP)
    }

    /// `AUTO_TRIGGER_REASON`.
    pub fn auto_trigger_reason(&self) -> Option<&str> {
        self.0.simple(keys::AUTO_TRIGGER_REASON)
    }
}
