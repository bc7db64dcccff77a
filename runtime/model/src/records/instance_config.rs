//! [`InstanceConfig`] — `/<C>/CONFIGS/PARTICIPANT/<I>`: host/port, enabled state
//! (legacy `HELIX_ENABLED` plus the `HELIX_INSTANCE_OPERATIONS` list), tags and
//! disabled partitions.

use indexmap::IndexMap;

use super::{json_string_map, split_by_comma, typed_record};
use crate::error::ModelError;
use crate::znrecord::ZNRecord;

/// Keys of an InstanceConfig (Helix spellings).
pub mod keys {
    /// SF host name.
    pub const HELIX_HOST: &str = "HELIX_HOST";
    /// SF port (a string).
    pub const HELIX_PORT: &str = "HELIX_PORT";
    /// SF zone id (deprecated).
    pub const HELIX_ZONE_ID: &str = "HELIX_ZONE_ID";
    /// SF topology domain, e.g. `zone=z1,rack=r2,host=h3`.
    pub const DOMAIN: &str = "DOMAIN";
    /// SF legacy enabled flag (default true).
    pub const HELIX_ENABLED: &str = "HELIX_ENABLED";
    /// SF time (ms) of the last enable/disable.
    pub const HELIX_ENABLED_TIMESTAMP: &str = "HELIX_ENABLED_TIMESTAMP";
    /// SF why the instance is disabled.
    pub const HELIX_DISABLED_REASON: &str = "HELIX_DISABLED_REASON";
    /// SF disable type.
    pub const HELIX_DISABLED_TYPE: &str = "HELIX_DISABLED_TYPE";
    /// MF resource → comma-separated disabled partitions (also a legacy LF).
    pub const HELIX_DISABLED_PARTITION: &str = "HELIX_DISABLED_PARTITION";
    /// LF instance tags.
    pub const TAG_LIST: &str = "TAG_LIST";
    /// LF instance operations, each a JSON object string; the last one is active.
    pub const HELIX_INSTANCE_OPERATIONS: &str = "HELIX_INSTANCE_OPERATIONS";
    /// SF instance weight.
    pub const INSTANCE_WEIGHT: &str = "INSTANCE_WEIGHT";
    /// SF max concurrent tasks.
    pub const MAX_CONCURRENT_TASK: &str = "MAX_CONCURRENT_TASK";
    /// SF target task thread pool size.
    pub const TARGET_TASK_THREAD_POOL_SIZE: &str = "TARGET_TASK_THREAD_POOL_SIZE";
    /// SF per-instance delayed rebalance switch.
    pub const DELAY_REBALANCE_ENABLED: &str = "DELAY_REBALANCE_ENABLED";
    /// MF instance info.
    pub const INSTANCE_INFO_MAP: &str = "INSTANCE_INFO_MAP";
    /// MF capacity (WAGED).
    pub const INSTANCE_CAPACITY_MAP: &str = "INSTANCE_CAPACITY_MAP";
}

/// Key of the disabled-partition map entry that applies to every resource.
pub const ALL_RESOURCES: &str = "ALL_RESOURCES";

/// Keys inside one `HELIX_INSTANCE_OPERATIONS` entry.
mod op_keys {
    pub const OPERATION: &str = "OPERATION";
    pub const REASON: &str = "REASON";
    pub const SOURCE: &str = "SOURCE";
    pub const TIMESTAMP: &str = "TIMESTAMP";
    pub const LEGACY_DISABLED_TYPE: &str = "LEGACY_DISABLED_TYPE";
}

/// `HELIX_DISABLED_TYPE` values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisabledType {
    /// `CLOUD_EVENT`.
    CloudEvent,
    /// `USER_OPERATION`.
    UserOperation,
    /// `DEFAULT_INSTANCE_DISABLE_TYPE` (what Helix reports when none is set).
    Default,
    /// Any other value, kept verbatim.
    Other(String),
}

impl DisabledType {
    /// The Helix spelling.
    pub fn as_str(&self) -> &str {
        match self {
            DisabledType::CloudEvent => "CLOUD_EVENT",
            DisabledType::UserOperation => "USER_OPERATION",
            DisabledType::Default => "DEFAULT_INSTANCE_DISABLE_TYPE",
            DisabledType::Other(s) => s,
        }
    }

    /// Parse a Helix spelling (unknown values become [`DisabledType::Other`]).
    pub fn parse(value: &str) -> Self {
        match value {
            "CLOUD_EVENT" => DisabledType::CloudEvent,
            "USER_OPERATION" => DisabledType::UserOperation,
            "DEFAULT_INSTANCE_DISABLE_TYPE" => DisabledType::Default,
            other => DisabledType::Other(other.to_string()),
        }
    }
}

/// An instance operation's kind (`OPERATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceOperationKind {
    /// `ENABLE`: serving (the default).
    Enable,
    /// `DISABLE`: replicas kept at the initial state.
    Disable,
    /// `EVACUATE`: replicas being moved off.
    Evacuate,
    /// `SWAP_IN`: replacement node being prepared.
    SwapIn,
    /// `UNKNOWN`.
    Unknown,
}

impl InstanceOperationKind {
    /// The Helix spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceOperationKind::Enable => "ENABLE",
            InstanceOperationKind::Disable => "DISABLE",
            InstanceOperationKind::Evacuate => "EVACUATE",
            InstanceOperationKind::SwapIn => "SWAP_IN",
            InstanceOperationKind::Unknown => "UNKNOWN",
        }
    }

    /// Parse a Helix spelling (anything else is `UNKNOWN`).
    pub fn parse(value: &str) -> Self {
        match value {
            "ENABLE" => InstanceOperationKind::Enable,
            "DISABLE" => InstanceOperationKind::Disable,
            "EVACUATE" => InstanceOperationKind::Evacuate,
            "SWAP_IN" => InstanceOperationKind::SwapIn,
            _ => InstanceOperationKind::Unknown,
        }
    }

    /// Replicas may be assigned to the instance (`ENABLE`, `DISABLE`).
    pub fn is_assignable(self) -> bool {
        matches!(
            self,
            InstanceOperationKind::Enable | InstanceOperationKind::Disable
        )
    }

    /// The instance is excluded from routing (`SWAP_IN`, `UNKNOWN`).
    pub fn is_unroutable(self) -> bool {
        matches!(
            self,
            InstanceOperationKind::SwapIn | InstanceOperationKind::Unknown
        )
    }
}

/// Who requested an instance operation (`SOURCE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceOperationSource {
    /// `ADMIN`.
    Admin,
    /// `USER`.
    User,
    /// `AUTOMATION`.
    Automation,
    /// `DEFAULT`.
    Default,
}

impl InstanceOperationSource {
    /// The Helix spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceOperationSource::Admin => "ADMIN",
            InstanceOperationSource::User => "USER",
            InstanceOperationSource::Automation => "AUTOMATION",
            InstanceOperationSource::Default => "DEFAULT",
        }
    }

    /// Parse a Helix spelling.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "ADMIN" => InstanceOperationSource::Admin,
            "USER" => InstanceOperationSource::User,
            "AUTOMATION" => InstanceOperationSource::Automation,
            "DEFAULT" => InstanceOperationSource::Default,
            _ => return None,
        })
    }
}

/// One entry of `HELIX_INSTANCE_OPERATIONS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceOperation {
    /// `OPERATION`.
    pub operation: InstanceOperationKind,
    /// `REASON`.
    pub reason: Option<String>,
    /// `SOURCE`.
    pub source: Option<InstanceOperationSource>,
    /// `TIMESTAMP` (ms).
    pub timestamp: Option<i64>,
    /// `LEGACY_DISABLED_TYPE`.
    pub legacy_disabled_type: Option<String>,
    /// Any other keys of the entry, kept verbatim.
    pub extra: IndexMap<String, String>,
}

impl InstanceOperation {
    /// An operation with no reason, source or timestamp.
    pub fn new(operation: InstanceOperationKind) -> Self {
        InstanceOperation {
            operation,
            reason: None,
            source: None,
            timestamp: None,
            legacy_disabled_type: None,
            extra: IndexMap::new(),
        }
    }

    /// Decode one list entry (JSON object of strings).
    pub fn parse(entry: &str) -> Result<Self, ModelError> {
        let mut map = json_string_map(entry)?;
        Ok(InstanceOperation {
            operation: map
                .shift_remove(op_keys::OPERATION)
                .map_or(InstanceOperationKind::Enable, |v| {
                    InstanceOperationKind::parse(&v)
                }),
            reason: map.shift_remove(op_keys::REASON),
            source: map
                .shift_remove(op_keys::SOURCE)
                .and_then(|v| InstanceOperationSource::parse(&v)),
            timestamp: map
                .shift_remove(op_keys::TIMESTAMP)
                .and_then(|v| v.parse().ok()),
            legacy_disabled_type: map.shift_remove(op_keys::LEGACY_DISABLED_TYPE),
            extra: map,
        })
    }

    /// Encode as a list entry (compact JSON).
    pub fn to_entry(&self) -> String {
        let mut map = serde_json::Map::new();
        let mut put = |k: &str, v: String| {
            map.entry(k.to_string())
                .or_insert(serde_json::Value::String(v));
        };
        put(op_keys::OPERATION, self.operation.as_str().to_string());
        if let Some(r) = &self.reason {
            put(op_keys::REASON, r.clone());
        }
        if let Some(s) = self.source {
            put(op_keys::SOURCE, s.as_str().to_string());
        }
        if let Some(t) = self.timestamp {
            put(op_keys::TIMESTAMP, t.to_string());
        }
        if let Some(l) = &self.legacy_disabled_type {
            put(op_keys::LEGACY_DISABLED_TYPE, l.clone());
        }
        for (k, v) in &self.extra {
            put(k, v.clone());
        }
        serde_json::Value::Object(map).to_string()
    }
}

typed_record! {
    /// InstanceConfig (id = instance name, conventionally `host_port`).
    InstanceConfig
}

impl InstanceConfig {
    /// An empty config for an instance.
    pub fn new(instance: impl Into<String>) -> Self {
        InstanceConfig::from(ZNRecord::new(instance))
    }

    /// Helix's `toInstanceConfig`: parse `host:port` or `host_port` (split at the
    /// last separator; the port must be a positive integer) into id `host_port` with
    /// `HELIX_HOST` and `HELIX_PORT`.
    pub fn from_host_port(spec: &str) -> Result<Self, ModelError> {
        let invalid = || ModelError::InvalidValue {
            field: "instance".into(),
            value: spec.into(),
            expected: "HOST:PORT or HOST_PORT with a positive integer port",
        };
        let split = spec
            .rfind(':')
            .filter(|&i| i > 0)
            .or_else(|| spec.rfind('_').filter(|&i| i > 0))
            .ok_or_else(invalid)?;
        let (host, port) = (&spec[..split], &spec[split + 1..]);
        match port.parse::<i32>() {
            Ok(p) if p > 0 => {}
            _ => return Err(invalid()),
        }
        let mut config = InstanceConfig::new(format!("{host}_{port}"));
        config.set_host(host);
        config.set_port(port);
        Ok(config)
    }

    /// `HELIX_HOST`.
    pub fn host(&self) -> Option<&str> {
        self.0.simple(keys::HELIX_HOST)
    }

    /// Set `HELIX_HOST`.
    pub fn set_host(&mut self, host: impl Into<String>) {
        self.record_mut().set_simple(keys::HELIX_HOST, host);
    }

    /// `HELIX_PORT` (a string in Helix).
    pub fn port(&self) -> Option<&str> {
        self.0.simple(keys::HELIX_PORT)
    }

    /// Set `HELIX_PORT`.
    pub fn set_port(&mut self, port: impl Into<String>) {
        self.record_mut().set_simple(keys::HELIX_PORT, port);
    }

    /// `DOMAIN`.
    pub fn domain(&self) -> Option<&str> {
        self.0.simple(keys::DOMAIN)
    }

    /// Legacy `HELIX_ENABLED` (default true).
    pub fn helix_enabled(&self) -> bool {
        self.0.simple_bool(keys::HELIX_ENABLED).unwrap_or(true)
    }

    /// `HELIX_ENABLED_TIMESTAMP` (ms).
    pub fn enabled_timestamp(&self) -> Option<i64> {
        self.0.simple_parsed(keys::HELIX_ENABLED_TIMESTAMP)
    }

    /// The legacy enable/disable write (`ZKHelixAdmin.enableInstance`): sets
    /// `HELIX_ENABLED` and `HELIX_ENABLED_TIMESTAMP`; enabling also removes
    /// `HELIX_DISABLED_REASON` and `HELIX_DISABLED_TYPE`.
    pub fn set_instance_enabled(&mut self, enabled: bool, now_ms: i64) {
        self.record_mut()
            .set_simple(keys::HELIX_ENABLED, enabled.to_string());
        self.record_mut()
            .set_simple(keys::HELIX_ENABLED_TIMESTAMP, now_ms.to_string());
        if enabled {
            self.record_mut().remove_simple(keys::HELIX_DISABLED_REASON);
            self.record_mut().remove_simple(keys::HELIX_DISABLED_TYPE);
        }
    }

    /// `HELIX_DISABLED_REASON`.
    pub fn disabled_reason(&self) -> Option<&str> {
        self.0.simple(keys::HELIX_DISABLED_REASON)
    }

    /// Set `HELIX_DISABLED_REASON`.
    pub fn set_disabled_reason(&mut self, reason: impl Into<String>) {
        self.record_mut()
            .set_simple(keys::HELIX_DISABLED_REASON, reason);
    }

    /// `HELIX_DISABLED_TYPE` while disabled (Helix reports
    /// `DEFAULT_INSTANCE_DISABLE_TYPE` when unset); `None` while enabled.
    pub fn disabled_type(&self) -> Option<DisabledType> {
        if self.instance_enabled() {
            return None;
        }
        Some(
            self.0
                .simple(keys::HELIX_DISABLED_TYPE)
                .map_or(DisabledType::Default, DisabledType::parse),
        )
    }

    /// Set `HELIX_DISABLED_TYPE`.
    pub fn set_disabled_type(&mut self, disabled_type: &DisabledType) {
        self.record_mut()
            .set_simple(keys::HELIX_DISABLED_TYPE, disabled_type.as_str());
    }

    /// Every `HELIX_INSTANCE_OPERATIONS` entry, oldest first (unparsable entries are
    /// skipped).
    pub fn instance_operations(&self) -> Vec<InstanceOperation> {
        self.0
            .list(keys::HELIX_INSTANCE_OPERATIONS)
            .unwrap_or_default()
            .iter()
            .filter_map(|entry| InstanceOperation::parse(entry).ok())
            .collect()
    }

    /// Append an operation; it becomes the active one.
    pub fn push_instance_operation(&mut self, operation: &InstanceOperation) {
        self.record_mut()
            .list_mut(keys::HELIX_INSTANCE_OPERATIONS)
            .push(operation.to_entry());
    }

    /// Helix's `InstanceConfig.setInstanceOperation`: an `ADMIN` operation
    /// replaces the whole list, any other replaces the entry of its source
    /// (a missing `SOURCE` reads as `USER`, as Helix reads it); `ENABLE` is
    /// inserted after the last `ENABLE` (so it never hides another source's
    /// operation), anything else is appended and becomes the active one.
    /// Before that, a list that is not empty takes in the effective
    /// operation, so a legacy `HELIX_ENABLED=false` written by an older
    /// tool becomes a `DISABLE` entry (or a stale `DISABLE` an `ENABLE`).
    /// Then the legacy fields follow, as Helix's
    /// `setLegacyFieldsForInstanceOperation` writes them for older readers:
    /// `DISABLE` sets `HELIX_ENABLED=false` (with the operation's
    /// `TIMESTAMP` as `HELIX_ENABLED_TIMESTAMP`, the disable time delayed
    /// rebalance counts from), `HELIX_DISABLED_REASON` and
    /// `HELIX_DISABLED_TYPE`; `ENABLE` sets `HELIX_ENABLED` back to true
    /// unless a `DISABLE` of another source remains (whose reason and type
    /// the legacy fields then show). `now_ms` stamps what has no timestamp.
    pub fn set_instance_operation(&mut self, operation: &InstanceOperation, now_ms: i64) {
        let mut operations = self.instance_operations();
        if !operations.is_empty() {
            let effective = self.effective_instance_operation(now_ms);
            update_operations(&mut operations, effective);
        }
        update_operations(&mut operations, operation.clone());
        self.record_mut().set_list(
            keys::HELIX_INSTANCE_OPERATIONS,
            operations.iter().map(InstanceOperation::to_entry),
        );
        match operation.operation {
            InstanceOperationKind::Disable => {
                if self.helix_enabled() {
                    self.set_instance_enabled(false, operation.timestamp.unwrap_or(now_ms));
                }
                self.record_mut().remove_simple(keys::HELIX_DISABLED_REASON);
                self.record_mut().remove_simple(keys::HELIX_DISABLED_TYPE);
                self.set_legacy_disable_fields(operation);
            }
            InstanceOperationKind::Enable if !self.helix_enabled() => {
                let latest_disable = operations
                    .iter()
                    .filter(|op| op.operation == InstanceOperationKind::Disable)
                    .max_by_key(|op| op.timestamp.unwrap_or(-1));
                match latest_disable {
                    Some(disable) => {
                        let disable = disable.clone();
                        self.set_legacy_disable_fields(&disable);
                    }
                    None => {
                        self.set_instance_enabled(true, operation.timestamp.unwrap_or(now_ms));
                    }
                }
            }
            _ => {}
        }
    }

    /// Helix's `getInstanceOperation` as an entry: the active operation
    /// (`ENABLE` from `DEFAULT` when there is none), overridden by the
    /// legacy `HELIX_ENABLED` — `false` makes an `ENABLE` or `EVACUATE` a
    /// `DISABLE` with the legacy reason and type, `true` makes a `DISABLE`
    /// an `ENABLE`.
    fn effective_instance_operation(&self, now_ms: i64) -> InstanceOperation {
        let active = self
            .instance_operations()
            .pop()
            .unwrap_or_else(|| InstanceOperation {
                source: Some(InstanceOperationSource::Default),
                timestamp: Some(-1),
                ..InstanceOperation::new(InstanceOperationKind::Enable)
            });
        let built = |kind| InstanceOperation {
            source: Some(InstanceOperationSource::User),
            timestamp: Some(now_ms),
            ..InstanceOperation::new(kind)
        };
        match (self.helix_enabled(), active.operation) {
            (false, InstanceOperationKind::Enable | InstanceOperationKind::Evacuate) => {
                InstanceOperation {
                    reason: Some(self.disabled_reason().unwrap_or_default().to_owned()),
                    legacy_disabled_type: self
                        .0
                        .simple(keys::HELIX_DISABLED_TYPE)
                        .map(str::to_owned),
                    ..built(InstanceOperationKind::Disable)
                }
            }
            (true, InstanceOperationKind::Disable) => built(InstanceOperationKind::Enable),
            _ => active,
        }
    }

    /// `HELIX_DISABLED_REASON` and `HELIX_DISABLED_TYPE` from a `DISABLE`
    /// operation, written only while the instance is disabled (Helix's
    /// `setInstanceDisabledReason` / `setInstanceDisabledType`; the default
    /// type is not written).
    fn set_legacy_disable_fields(&mut self, disable: &InstanceOperation) {
        if self.instance_operation() != InstanceOperationKind::Disable {
            return;
        }
        self.set_disabled_reason(disable.reason.clone().unwrap_or_default());
        if let Some(kind) = disable
            .legacy_disabled_type
            .as_deref()
            .map(DisabledType::parse)
            .filter(|kind| *kind != DisabledType::Default)
        {
            self.set_disabled_type(&kind);
        }
    }

    /// Removes the operations `matches` selects; returns whether any was.
    pub fn remove_instance_operations(
        &mut self,
        matches: impl Fn(&InstanceOperation) -> bool,
    ) -> bool {
        let operations = self.instance_operations();
        let kept: Vec<String> = operations
            .iter()
            .filter(|op| !matches(op))
            .map(InstanceOperation::to_entry)
            .collect();
        if kept.len() == operations.len() {
            return false;
        }
        if kept.is_empty() {
            self.record_mut()
                .remove_list(keys::HELIX_INSTANCE_OPERATIONS);
        } else {
            self.record_mut()
                .set_list(keys::HELIX_INSTANCE_OPERATIONS, kept);
        }
        true
    }

    /// Whether the effective operation is `EVACUATE` (Helix's drain): the
    /// instance keeps serving what it holds while its replicas move off,
    /// and takes no new assignment.
    pub fn is_evacuating(&self) -> bool {
        self.instance_operation() == InstanceOperationKind::Evacuate
    }

    /// The effective operation kind: the last listed operation (ENABLE if none),
    /// reconciled with the legacy flag as Helix does — `HELIX_ENABLED=false` turns
    /// ENABLE/EVACUATE into DISABLE, and `HELIX_ENABLED=true` turns DISABLE into ENABLE.
    pub fn instance_operation(&self) -> InstanceOperationKind {
        let active = self
            .instance_operations()
            .last()
            .map_or(InstanceOperationKind::Enable, |op| op.operation);
        match (self.helix_enabled(), active) {
            (false, InstanceOperationKind::Enable | InstanceOperationKind::Evacuate) => {
                InstanceOperationKind::Disable
            }
            (true, InstanceOperationKind::Disable) => InstanceOperationKind::Enable,
            (_, op) => op,
        }
    }

    /// Helix's `getInstanceEnabled()`: the effective operation is ENABLE.
    pub fn instance_enabled(&self) -> bool {
        self.instance_operation() == InstanceOperationKind::Enable
    }

    /// `TARGET_TASK_THREAD_POOL_SIZE`; `None` when unset, unreadable or
    /// negative (Helix's "not set").
    pub fn target_task_thread_pool_size(&self) -> Option<i32> {
        self.0
            .simple_parsed(keys::TARGET_TASK_THREAD_POOL_SIZE)
            .filter(|n: &i32| *n >= 0)
    }

    /// LF `TAG_LIST`.
    pub fn tags(&self) -> &[String] {
        self.0.list(keys::TAG_LIST).unwrap_or_default()
    }

    /// Whether the instance has this tag.
    pub fn contains_tag(&self, tag: &str) -> bool {
        self.tags().iter().any(|t| t == tag)
    }

    /// Add a tag (no duplicates).
    pub fn add_tag(&mut self, tag: &str) {
        let tags = self.record_mut().list_mut(keys::TAG_LIST);
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_string());
        }
    }

    /// Remove a tag.
    pub fn remove_tag(&mut self, tag: &str) {
        if let Some(tags) = self.record_mut().list_fields.get_mut(keys::TAG_LIST) {
            tags.retain(|t| t != tag);
        }
    }

    /// Partitions of `resource` disabled on this instance: the resource's entry and
    /// the `ALL_RESOURCES` entry of MF `HELIX_DISABLED_PARTITION`, plus the legacy LF.
    pub fn disabled_partitions(&self, resource: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if let Some(map) = self.0.map(keys::HELIX_DISABLED_PARTITION) {
            for key in [resource, ALL_RESOURCES] {
                if let Some(list) = map.get(key) {
                    out.extend(split_by_comma(list));
                }
            }
        }
        if let Some(legacy) = self.0.list(keys::HELIX_DISABLED_PARTITION) {
            out.extend(legacy.iter().cloned());
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|p| seen.insert(p.clone()));
        out
    }

    /// Whether `partition` of `resource` is enabled on this instance.
    pub fn is_partition_enabled(&self, resource: &str, partition: &str) -> bool {
        !self
            .disabled_partitions(resource)
            .iter()
            .any(|p| p == partition)
    }

    /// Enable or disable one partition of a resource (MF `HELIX_DISABLED_PARTITION`,
    /// comma-joined; the resource's entry is removed when it becomes empty).
    pub fn set_partition_enabled(&mut self, resource: &str, partition: &str, enabled: bool) {
        let map = self.record_mut().map_mut(keys::HELIX_DISABLED_PARTITION);
        let mut list = map
            .get(resource)
            .map(|v| split_by_comma(v))
            .unwrap_or_default();
        list.retain(|p| p != partition);
        if !enabled {
            list.push(partition.to_string());
        }
        if list.is_empty() {
            map.shift_remove(resource);
        } else {
            map.insert(resource.to_string(), list.join(","));
        }
        if map.is_empty() {
            self.record_mut()
                .remove_map_field(keys::HELIX_DISABLED_PARTITION);
        }
        if enabled
            && let Some(legacy) = self
                .record_mut()
                .list_fields
                .get_mut(keys::HELIX_DISABLED_PARTITION)
        {
            legacy.retain(|p| p != partition);
        }
    }
}

/// Helix's `updateInstanceOperation`: an `ADMIN` operation clears the
/// list, another replaces its source's entry; `ENABLE` goes after the last
/// `ENABLE`, anything else last.
fn update_operations(operations: &mut Vec<InstanceOperation>, operation: InstanceOperation) {
    let source = |op: &InstanceOperation| op.source.unwrap_or(InstanceOperationSource::User);
    if source(&operation) == InstanceOperationSource::Admin {
        operations.clear();
    } else {
        operations.retain(|op| source(op) != source(&operation));
    }
    if operation.operation == InstanceOperationKind::Enable {
        let at = operations
            .iter()
            .rposition(|op| op.operation == InstanceOperationKind::Enable)
            .map_or(0, |i| i + 1);
        operations.insert(at, operation);
    } else {
        operations.push(operation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_parsing() {
        let c = InstanceConfig::from_host_port("localhost:12001").expect("valid");
        assert_eq!(c.id(), "localhost_12001");
        assert_eq!(c.host(), Some("localhost"));
        assert_eq!(c.port(), Some("12001"));
        let c = InstanceConfig::from_host_port("my_host_9").expect("valid");
        assert_eq!((c.id(), c.host()), ("my_host_9", Some("my_host")));
        for bad in ["localhost", "host:", "host:x", ":80", "h_-1"] {
            assert!(InstanceConfig::from_host_port(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enabled_logic() {
        let mut c = InstanceConfig::new("i");
        assert!(c.instance_enabled());
        assert_eq!(c.disabled_type(), None);
        c.set_instance_enabled(false, 5);
        assert!(!c.instance_enabled());
        assert_eq!(c.disabled_type(), Some(DisabledType::Default));
        c.set_disabled_type(&DisabledType::CloudEvent);
        c.set_disabled_reason("maintenance");
        assert_eq!(c.disabled_type(), Some(DisabledType::CloudEvent));
        c.set_instance_enabled(true, 6);
        assert!(c.instance_enabled());
        assert_eq!(c.disabled_reason(), None);
        assert_eq!(c.enabled_timestamp(), Some(6));

        // Operation list: last one is active; legacy flag reconciles.
        let mut op = InstanceOperation::new(InstanceOperationKind::Evacuate);
        op.source = Some(InstanceOperationSource::User);
        op.timestamp = Some(7);
        c.push_instance_operation(&op);
        assert_eq!(c.instance_operation(), InstanceOperationKind::Evacuate);
        assert!(!c.instance_enabled());
        c.set_instance_enabled(false, 8);
        assert_eq!(c.instance_operation(), InstanceOperationKind::Disable);
        c.push_instance_operation(&InstanceOperation::new(InstanceOperationKind::Disable));
        c.set_instance_enabled(true, 9);
        assert_eq!(c.instance_operation(), InstanceOperationKind::Enable);
        let ops = c.instance_operations();
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0], op);
        assert_eq!(
            op.to_entry(),
            r#"{"OPERATION":"EVACUATE","SOURCE":"USER","TIMESTAMP":"7"}"#
        );
    }

    #[test]
    fn set_instance_operation_follows_helix_list_rules() {
        let op = |kind, source, reason: &str| InstanceOperation {
            reason: Some(reason.to_owned()),
            source: Some(source),
            timestamp: Some(1),
            ..InstanceOperation::new(kind)
        };
        let mut c = InstanceConfig::new("i");
        c.set_instance_operation(
            &op(
                InstanceOperationKind::Evacuate,
                InstanceOperationSource::User,
                "maintenance",
            ),
            10,
        );
        assert!(c.is_evacuating());
        assert!(!c.instance_enabled());
        // Another source's EVACUATE is kept when USER enables again.
        c.set_instance_operation(
            &op(
                InstanceOperationKind::Evacuate,
                InstanceOperationSource::Automation,
                "shutdown",
            ),
            11,
        );
        c.set_instance_operation(
            &op(
                InstanceOperationKind::Enable,
                InstanceOperationSource::User,
                "",
            ),
            12,
        );
        let kinds: Vec<_> = c
            .instance_operations()
            .iter()
            .map(|o| o.operation)
            .collect();
        assert_eq!(
            kinds,
            [
                InstanceOperationKind::Enable,
                InstanceOperationKind::Evacuate
            ]
        );
        assert!(c.is_evacuating());
        assert!(c.remove_instance_operations(|o| o.reason.as_deref() == Some("shutdown")));
        assert!(c.instance_enabled());
        assert!(!c.remove_instance_operations(|o| o.reason.as_deref() == Some("shutdown")));
        // ADMIN replaces everything.
        c.set_instance_operation(
            &op(
                InstanceOperationKind::Evacuate,
                InstanceOperationSource::Admin,
                "forced",
            ),
            13,
        );
        assert_eq!(c.instance_operations().len(), 1);
        // A legacy-disabled instance is enabled again by ENABLE with no DISABLE left.
        let mut d = InstanceConfig::new("d");
        d.set_instance_enabled(false, 1);
        d.set_instance_operation(
            &op(
                InstanceOperationKind::Enable,
                InstanceOperationSource::User,
                "",
            ),
            14,
        );
        assert!(d.helix_enabled() && d.instance_enabled());
    }

    #[test]
    fn set_instance_operation_keeps_the_legacy_fields_as_helix_does() {
        let op = |kind, source, reason: &str, at: i64| InstanceOperation {
            reason: Some(reason.to_owned()),
            source: Some(source),
            timestamp: Some(at),
            ..InstanceOperation::new(kind)
        };
        let mut c = InstanceConfig::new("i");
        c.set_instance_operation(
            &InstanceOperation {
                legacy_disabled_type: Some("CLOUD_EVENT".into()),
                ..op(
                    InstanceOperationKind::Disable,
                    InstanceOperationSource::Automation,
                    "host repair",
                    100,
                )
            },
            999,
        );
        assert!(!c.helix_enabled(), "older readers see it disabled");
        assert_eq!(c.enabled_timestamp(), Some(100), "the operation's time");
        assert_eq!(c.disabled_reason(), Some("host repair"));
        assert_eq!(c.disabled_type(), Some(DisabledType::CloudEvent));

        // USER enables, but AUTOMATION's DISABLE stays: still disabled,
        // the legacy fields show the remaining DISABLE.
        c.set_instance_operation(
            &op(
                InstanceOperationKind::Enable,
                InstanceOperationSource::User,
                "",
                200,
            ),
            999,
        );
        assert!(!c.helix_enabled() && !c.instance_enabled());
        assert_eq!(c.disabled_reason(), Some("host repair"));
        // AUTOMATION enables: no DISABLE left, enabled for everyone.
        c.set_instance_operation(
            &op(
                InstanceOperationKind::Enable,
                InstanceOperationSource::Automation,
                "",
                300,
            ),
            999,
        );
        assert!(c.helix_enabled() && c.instance_enabled());
        assert_eq!(c.enabled_timestamp(), Some(300));
        assert_eq!(c.disabled_reason(), None);

        // An older tool disables through HELIX_ENABLED only; the next
        // operation takes that in as USER's DISABLE first.
        c.set_instance_enabled(false, 400);
        c.set_disabled_reason("legacy");
        c.set_instance_operation(
            &op(
                InstanceOperationKind::Evacuate,
                InstanceOperationSource::Automation,
                "drain",
                500,
            ),
            999,
        );
        let entries: Vec<_> = c
            .instance_operations()
            .iter()
            .map(|o| (o.operation, o.source, o.reason.clone()))
            .collect();
        assert!(
            entries.contains(&(
                InstanceOperationKind::Disable,
                Some(InstanceOperationSource::User),
                Some("legacy".into())
            )),
            "{entries:?}"
        );
        assert!(!c.instance_enabled());
    }

    #[test]
    fn tags_and_disabled_partitions() {
        let mut c = InstanceConfig::new("i");
        c.add_tag("a");
        c.add_tag("a");
        c.add_tag("b");
        assert_eq!(c.tags(), ["a", "b"]);
        c.remove_tag("a");
        assert!(!c.contains_tag("a") && c.contains_tag("b"));

        c.set_partition_enabled("R", "R_0", false);
        c.set_partition_enabled("R", "R_1", false);
        assert_eq!(
            c.record()
                .map(keys::HELIX_DISABLED_PARTITION)
                .and_then(|m| m.get("R"))
                .map(String::as_str),
            Some("R_0,R_1")
        );
        assert!(!c.is_partition_enabled("R", "R_1"));
        assert!(c.is_partition_enabled("S", "R_1"));
        c.record_mut()
            .map_mut(keys::HELIX_DISABLED_PARTITION)
            .insert(ALL_RESOURCES.into(), "S_3".into());
        assert!(!c.is_partition_enabled("S", "S_3"));
        c.record_mut()
            .set_list(keys::HELIX_DISABLED_PARTITION, ["X_9"]);
        assert!(!c.is_partition_enabled("X", "X_9"));
        c.set_partition_enabled("R", "R_0", true);
        c.set_partition_enabled("R", "R_1", true);
        c.set_partition_enabled("X", "X_9", true);
        assert!(c.is_partition_enabled("R", "R_0") && c.is_partition_enabled("X", "X_9"));
    }
}
