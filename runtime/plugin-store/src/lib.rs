//! Cluster-wide plugin deployment: plugin components stored in the cluster's
//! ZooKeeper, so participants (and controllers) load them from there instead
//! of from local files.
//!
//! Start with [`PluginStore::new`]; [`PluginStore::deploy`] validates a
//! component the way `strand plugin check` does — through the
//! [`ComponentInspector`](strand_model::plugin::ComponentInspector) it was
//! given ([`PluginStore::with_inspector`], a plugin host: this crate links no
//! engine) —, stores it and makes it the
//! active version of its plugin; [`PluginStore::list`],
//! [`PluginStore::history`], [`PluginStore::rollback`],
//! [`PluginStore::remove`] and [`PluginStore::fetch_artefact`] do the rest.
//! Participants report what they run with [`InstanceStatus`] records
//! ([`status`]).
//!
//! # ZooKeeper layout
//!
//! Everything lives in Helix's application area of the cluster,
//! `/<C>/PROPERTYSTORE/STRAND` (Helix itself never looks there):
//!
//! | znode | content |
//! |---|---|
//! | `ARTEFACTS/<sha256>` | the manifest, a ZNRecord (`SHA256` and `SIZE` of the component, `ENCODING` `gzip`, `STORED_SIZE`, `CHUNKS`, `CHUNK_SIZE`, `CREATED_AT`); empty while the chunks are written |
//! | `ARTEFACTS/<sha256>/<nnnn>` | chunk `nnnn` (4 decimal digits from `0000`) of the gzip stream, each at most 512 KiB, far below ZooKeeper's 1 MiB znode limit (artefacts stored before compression: the raw bytes, no `ENCODING`) |
//! | `PLUGINS/<name>` | one ZNRecord per plugin: `KIND` (`STATE_MODEL` / `AGGREGATOR`), `ACTIVE_VERSION`, list `VERSIONS` (deploy order), and one map per version: `SHA256`, `SIZE`, `STORED_SIZE`, `DEPLOYED_AT`, `DEPLOYED_BY`, `ACTIVATED_AT`, `FORCED`, and for state models `DEFINITION` (the component's definition as JSON) |
//! | `POLICY` | the storage policy ([`StoragePolicy`]): `RETAINED_VERSIONS`, `BUDGET_BYTES`; absent means the defaults |
//! | `STATUS/<instance>` | written by participants: one map per plugin name with `ACTIVE_VERSION`, `ACTIVE_SHA256`, `UPDATED_AT`, and `LAST_ERROR`, `ERROR_VERSION`, `ERROR_SHA256`, `ERROR_AT` while the active version failed to load there |
//!
//! Artefacts are content-addressed: the same bytes are stored once, however
//! many plugins or versions use them. The manifest is written last, so a
//! manifest means every chunk is there; readers verify size and SHA-256 on
//! every fetch. A deployment of a state model also writes
//! `/<C>/STATEMODELDEFS/<name>` (Helix's format) in the same atomic
//! multi-op as the plugin record, so controllers never see one without the
//! other.
//!
//! * [`store`] — [`PluginStore`]: deploy, list, history, rollback, remove.
//! * [`artefact`] — chunked, compressed, content-addressed artefact storage.
//! * [`policy`] — retention and budget; [`gc`] applies them.
//! * [`record`] — the plugin record and its versions.
//! * [`definition`] — a plugin's definition as a Helix StateModelDefinition,
//!   and the comparison that guards resources in use.
//! * [`status`] — per-instance status records.
//! * [`layout`] — the znode paths above.
//! * [`error`] — [`StoreError`].

pub mod artefact;
pub mod definition;
pub mod error;
pub mod gc;
pub mod layout;
pub mod policy;
pub mod record;
pub mod status;
pub mod store;

pub use error::StoreError;
pub use gc::{GcReport, Usage};
pub use layout::StorePaths;
pub use policy::{DEFAULT_BUDGET_BYTES, DEFAULT_RETAINED_VERSIONS, StoragePolicy};
pub use record::{Deployment, PluginKind, PluginRecord, VersionEntry};
pub use status::{InstanceStatus, PluginStatus};
pub use store::{DEFAULT_MAX_SIZE, DeployOptions, PluginStore, PluginSummary};

/// The SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
