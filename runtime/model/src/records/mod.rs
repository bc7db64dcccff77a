//! Typed Helix records: thin wrappers over a [`ZNRecord`] (like Helix's
//! `HelixProperty`), so a read-modify-write keeps every field Strand does not know.
//! Each wrapper offers typed getters and setters under Helix's exact key spellings.

pub mod cluster_config;
pub mod current_state;
pub mod customized;
pub mod external_view;
pub mod history;
pub mod ideal_state;
pub mod instance_config;
pub mod live_instance;
pub mod message;
pub mod signals;
pub mod state_model;
pub mod state_model_builder;

pub use cluster_config::ClusterConfig;
pub use current_state::{CurrentState, PartitionCurrentState};
pub use customized::{CustomizedState, CustomizedStateConfig, CustomizedView};
pub use external_view::ExternalView;
pub use history::{ControllerHistory, ParticipantHistory};
pub use ideal_state::{ANY_LIVEINSTANCE, IdealState, IdealStateMode, RebalanceMode, Replicas};
pub use instance_config::{
    ALL_RESOURCES, DisabledType, InstanceConfig, InstanceOperation, InstanceOperationKind,
    InstanceOperationSource,
};
pub use live_instance::{LiveInstance, LiveInstanceStatus};
pub use message::{Message, MessageState, MessageType, RebalanceType, StateTransitionSpec};
pub use signals::{MaintenanceSignal, PauseSignal, TriggeringEntity};
pub use state_model::{Count, DROPPED, ERROR, StateModelDefinition};
pub use state_model_builder::StateModelDefinitionBuilder;

use crate::error::ModelError;
use crate::znrecord::ZNRecord;

/// Common surface of every typed record.
pub trait TypedRecord: From<ZNRecord> + Into<ZNRecord> {
    /// Helix's class name for this record kind, for messages.
    const KIND: &'static str;

    /// The underlying record.
    fn record(&self) -> &ZNRecord;

    /// The underlying record, for edits no typed setter covers.
    fn record_mut(&mut self) -> &mut ZNRecord;

    /// The record id.
    fn id(&self) -> &str {
        &self.record().id
    }

    /// Decode znode data (`None` for an empty znode).
    fn from_bytes(data: &[u8]) -> Result<Option<Self>, ModelError> {
        Ok(ZNRecord::from_bytes(data)?.map(Self::from))
    }

    /// Encode as znode data (see [`ZNRecord::to_bytes`]).
    fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        self.record().to_bytes()
    }
}

/// Declares a typed wrapper: the struct, conversions, and `record()`-style accessors.
///
/// The wrapper shares its record (`Arc`): wrapping a record read from a cache
/// copies nothing, cloning a typed record is cheap, and the first edit of a
/// shared record copies it (copy on write).
macro_rules! typed_record {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(std::sync::Arc<crate::znrecord::ZNRecord>);

        impl $name {
            /// The underlying record.
            pub fn record(&self) -> &crate::znrecord::ZNRecord {
                &self.0
            }

            /// The underlying record, for edits no typed setter covers
            /// (copied first when it is shared).
            pub fn record_mut(&mut self) -> &mut crate::znrecord::ZNRecord {
                std::sync::Arc::make_mut(&mut self.0)
            }

            /// The shared record.
            pub fn shared_record(&self) -> &std::sync::Arc<crate::znrecord::ZNRecord> {
                &self.0
            }

            /// Unwrap into the underlying record (copied when it is shared).
            pub fn into_record(self) -> crate::znrecord::ZNRecord {
                std::sync::Arc::unwrap_or_clone(self.0)
            }

            /// The record id.
            pub fn id(&self) -> &str {
                &self.0.id
            }

            /// Decode znode data (`None` for an empty znode; GZIP handled).
            pub fn from_bytes(
                data: &[u8],
            ) -> Result<Option<Self>, crate::error::ModelError> {
                Ok(crate::znrecord::ZNRecord::from_bytes(data)?.map(Self::from))
            }

            /// Encode as znode data (see [`crate::znrecord::ZNRecord::to_bytes`]).
            pub fn to_bytes(&self) -> Result<Vec<u8>, crate::error::ModelError> {
                self.0.to_bytes()
            }
        }

        impl From<crate::znrecord::ZNRecord> for $name {
            fn from(record: crate::znrecord::ZNRecord) -> Self {
                $name(std::sync::Arc::new(record))
            }
        }

        impl From<std::sync::Arc<crate::znrecord::ZNRecord>> for $name {
            fn from(record: std::sync::Arc<crate::znrecord::ZNRecord>) -> Self {
                $name(record)
            }
        }

        impl From<$name> for crate::znrecord::ZNRecord {
            fn from(typed: $name) -> Self {
                typed.into_record()
            }
        }

        impl crate::records::TypedRecord for $name {
            const KIND: &'static str = stringify!($name);

            fn record(&self) -> &crate::znrecord::ZNRecord {
                &self.0
            }

            fn record_mut(&mut self) -> &mut crate::znrecord::ZNRecord {
                std::sync::Arc::make_mut(&mut self.0)
            }
        }
    };
}

pub(crate) use typed_record;

/// Simple-field keys that every `HelixProperty` understands.
pub mod property_keys {
    /// Bucket size for bucketised records (`"0"` = not bucketised).
    pub const BUCKET_SIZE: &str = "BUCKET_SIZE";
    /// Whether state transitions for this resource are sent as batch messages.
    pub const BATCH_MESSAGE_MODE: &str = "BATCH_MESSAGE_MODE";
}

/// Helix's `HelixUtil.deserializeByComma`: split on `,` (no trimming; an empty string
/// gives no items).
pub(crate) fn split_by_comma(value: &str) -> Vec<String> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(',').map(str::to_string).collect()
    }
}

/// Decode a list-field entry holding a JSON object of strings (scalars are taken as
/// their text, `null`s dropped), keeping key order.
pub(crate) fn json_string_map(
    entry: &str,
) -> Result<indexmap::IndexMap<String, String>, ModelError> {
    let value: serde_json::Value = serde_json::from_str(entry)?;
    let serde_json::Value::Object(object) = value else {
        return Err(ModelError::InvalidValue {
            field: "list entry".into(),
            value: entry.into(),
            expected: "a JSON object",
        });
    };
    Ok(object
        .into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k, s)),
            serde_json::Value::Null => None,
            other => Some((k, other.to_string())),
        })
        .collect())
}

/// Methods shared by records that carry `BUCKET_SIZE` / `BATCH_MESSAGE_MODE`.
macro_rules! bucket_and_batch_accessors {
    ($name:ident) => {
        impl $name {
            /// `BUCKET_SIZE` (0 when absent or unparsable: not bucketised).
            pub fn bucket_size(&self) -> i32 {
                self.0
                    .simple_parsed(crate::records::property_keys::BUCKET_SIZE)
                    .unwrap_or(0)
            }

            /// Set `BUCKET_SIZE`.
            pub fn set_bucket_size(&mut self, size: i32) {
                self.record_mut()
                    .set_simple(crate::records::property_keys::BUCKET_SIZE, size.to_string());
            }

            /// `BATCH_MESSAGE_MODE` (false when absent).
            pub fn batch_message_mode(&self) -> bool {
                self.0
                    .simple_bool(crate::records::property_keys::BATCH_MESSAGE_MODE)
                    .unwrap_or(false)
            }

            /// Set `BATCH_MESSAGE_MODE`.
            pub fn set_batch_message_mode(&mut self, enabled: bool) {
                self.record_mut().set_simple(
                    crate::records::property_keys::BATCH_MESSAGE_MODE,
                    enabled.to_string(),
                );
            }
        }
    };
}

pub(crate) use bucket_and_batch_accessors;
