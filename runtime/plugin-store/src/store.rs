//! [`PluginStore`]: deploy, list, history, rollback and remove plugins of
//! one cluster.
//!
//! # Guarantees
//! * A refused operation changes nothing: every check (size, component,
//!   name, kind, version, definition) runs before the first write.
//! * The plugin record and, for state models, `STATEMODELDEFS/<name>` are
//!   written in one atomic multi-op, compare-and-set on both, retried when
//!   someone else wrote first.
//! * The artefact is complete and verified before a record points to it;
//!   a damaged copy found while deploying the same bytes is rewritten.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;
use strand_model::plugin::{ComponentInspector, InspectError, PluginDescription};
use strand_model::{IdealState, ZNRecord};
use strand_zk::{Accessor, CreateKind, Multi, Zk, ZkError};
use tracing::{info, warn};

use crate::artefact::{self, DEFAULT_CHUNK_SIZE, Packed};
use crate::definition::diff;
use crate::error::StoreError;
use crate::layout::{StorePaths, check_name};
use crate::policy::StoragePolicy;
use crate::record::{Deployment, PluginKind, PluginRecord, VersionEntry};
use crate::sha256_hex;
use crate::status::{self, InstanceStatus};
use strand_model::time::now_ms;

/// The default size cap: 64 MiB, room for Python and JavaScript components
/// (12–20 MB) with margin.
pub const DEFAULT_MAX_SIZE: usize = 64 * 1024 * 1024;

/// Compare-and-set attempts before giving up on a busy record.
const MAX_ATTEMPTS: usize = 20;

/// How to deploy.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// The plugin's name; by default the name the component reports (the
    /// state model definition's name, or the aggregator's).
    pub name: Option<String>,
    /// Replace a definition that resources use even if it changes their
    /// states, and a version string already deployed with other bytes.
    pub force: bool,
    /// Components larger than this are refused ([`StoreError::TooLarge`]).
    pub max_size: usize,
    /// Who deploys (recorded with the version).
    pub deployed_by: String,
    /// Network capabilities the deployment requests (rules such as
    /// `http://{host}:{port}` or `tcp:{host}:6379-6390`, checked by the
    /// caller); recorded with the version, granted only by participants
    /// whose own grants cover them.
    pub requests: Vec<String>,
}

impl Default for DeployOptions {
    fn default() -> Self {
        Self {
            name: None,
            force: false,
            max_size: DEFAULT_MAX_SIZE,
            deployed_by: std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
            requests: Vec::new(),
        }
    }
}

/// One plugin, as `list` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginSummary {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: PluginKind,
    /// The active version.
    pub active: Option<Deployment>,
    /// Every deployed version, oldest first.
    pub versions: Vec<String>,
    /// What its versions' artefacts hold in ZooKeeper (compressed; an
    /// artefact shared with another plugin counts for both).
    pub stored_bytes: u64,
    /// What each instance that reported runs, and its load errors.
    pub instances: Vec<InstanceStatus>,
}

/// The plugins of one cluster (see the crate docs for the layout).
pub struct PluginStore {
    zk: Zk,
    cluster: String,
    paths: StorePaths,
    chunk_size: usize,
    inspector: Option<Arc<dyn ComponentInspector>>,
}

impl std::fmt::Debug for PluginStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginStore")
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

impl PluginStore {
    /// The store of `cluster` on session `zk`. It reads, rolls back and
    /// removes; to deploy it needs an inspector
    /// ([`PluginStore::with_inspector`]).
    pub fn new(zk: Zk, cluster: &str) -> Self {
        Self {
            zk,
            cluster: cluster.to_owned(),
            paths: StorePaths::new(cluster),
            chunk_size: DEFAULT_CHUNK_SIZE,
            inspector: None,
        }
    }

    /// Validates deployed components with `inspector` — a plugin host
    /// (`strand-plugin-host` implements [`ComponentInspector`] for
    /// `HostInspector`, on a given host or one made on first use). The store itself links no
    /// engine.
    pub fn with_inspector(self, inspector: impl ComponentInspector + 'static) -> Self {
        Self {
            inspector: Some(Arc::new(inspector)),
            ..self
        }
    }

    /// Stores artefacts in chunks of `bytes` (default 512 KiB).
    pub fn with_chunk_size(self, bytes: usize) -> Self {
        Self {
            chunk_size: bytes.max(1),
            ..self
        }
    }

    /// The cluster.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The store's paths.
    pub fn paths(&self) -> &StorePaths {
        &self.paths
    }

    /// The session.
    pub fn zk(&self) -> &Zk {
        &self.zk
    }

    /// Validates the component (as `strand plugin check` does: compile,
    /// world and interface versions, definition, canary call), stores the
    /// artefact, makes it the active version of its plugin and, for state
    /// models, writes `STATEMODELDEFS/<name>` in Helix's format (left as it
    /// is when the definition is the same).
    ///
    /// # Errors
    /// [`StoreError::TooLarge`] over `max_size`; [`StoreError::Invalid`] for
    /// a component that does not load or a bad name or version;
    /// [`StoreError::Conflict`] for a name held by the other kind, a version
    /// string deployed with other bytes, or a definition that changes the
    /// states of a model resources use (both unless `force`);
    /// [`StoreError::NotFound`] when the cluster does not exist;
    /// [`StoreError::Host`] when the store has no inspector or it cannot
    /// work.
    pub async fn deploy(
        &self,
        bytes: &[u8],
        opts: &DeployOptions,
    ) -> Result<Deployment, StoreError> {
        if bytes.len() > opts.max_size {
            return Err(StoreError::TooLarge {
                size: bytes.len(),
                max: opts.max_size,
            });
        }
        if let Some(name) = &opts.name {
            check_name("plugin name", name).map_err(StoreError::Invalid)?;
        }
        self.require_cluster().await?;
        let description = self.validate(bytes, opts.name.as_deref()).await?;
        let kind = PluginKind::from(&description);
        let reported_name = description.name().to_owned();
        let version = description.version().to_owned();
        let definition = match description {
            PluginDescription::StateModel(d) => Some(d),
            PluginDescription::Aggregator(_) => None,
        };
        let name = opts.name.clone().unwrap_or(reported_name);
        check_name("plugin name", &name).map_err(StoreError::Invalid)?;
        check_name("version", &version).map_err(StoreError::Invalid)?;
        let sha256 = sha256_hex(bytes);
        let helix = definition.as_ref().map(|d| d.to_helix(&name));
        let packed = pack(bytes).await?;
        let entry = VersionEntry {
            version: version.clone(),
            sha256: sha256.clone(),
            size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            stored_size: Some(u64::try_from(packed.data.len()).unwrap_or(u64::MAX)),
            deployed_at_ms: now_ms(),
            deployed_by: opts.deployed_by.clone(),
            activated_at_ms: now_ms(),
            forced: opts.force,
            definition,
            requests: opts.requests.clone(),
        };
        let policy = self.policy().await?;
        let place = |current: Option<PluginRecord>| -> Result<PluginRecord, StoreError> {
            let mut record = current.unwrap_or_else(|| PluginRecord::new(&name, kind));
            if record.kind != kind {
                return Err(StoreError::Conflict(format!(
                    "{name} is a {} plugin; this component is a {kind}",
                    record.kind
                )));
            }
            match record.version(&version) {
                Some(old) if old.sha256 == sha256 => {
                    // The same bytes again: make it active, keep its history.
                    let mut again = old.clone();
                    again.activated_at_ms = now_ms();
                    again.forced = opts.force;
                    record.activate_new(again);
                }
                Some(old) if !opts.force => {
                    return Err(StoreError::Conflict(format!(
                        "version {version} of {name} is already deployed with other bytes \
                         (sha256 {}); bump the component's version, or force to replace it",
                        short(&old.sha256)
                    )));
                }
                _ => record.activate_new(entry.clone()),
            }
            record.retain_recent(policy.retained_versions);
            Ok(record)
        };
        // Every check once before anything is written: the kind, the
        // definition (the refusal that matters most), the version string,
        // the budget.
        let current = self.read_record(&name).await?.map(|(r, _)| r);
        if let Some(record) = &current
            && record.kind != kind
        {
            return Err(StoreError::Conflict(format!(
                "{name} is a {} plugin; this component is a {kind}",
                record.kind
            )));
        }
        if let Some(helix) = &helix {
            self.definition_op(&name, helix, opts.force).await?;
        }
        let planned = place(current.clone())?;
        self.check_budget(
            &name,
            &version,
            current.as_ref(),
            &planned,
            &packed,
            &policy,
        )
        .await?;
        self.ensure_artefact(&packed).await?;
        let before = self.read_record(&name).await?.map(|(r, _)| r);
        let record = self
            .commit(&name, place, helix.as_ref(), opts.force)
            .await?;
        self.delete_unused(before.as_ref(), &record).await;
        let deployment = record
            .version(&version)
            .map(|e| record.deployment(e))
            .ok_or_else(|| StoreError::Corrupt(format!("{name}: version {version} vanished")))?;
        info!(
            cluster = %self.cluster, plugin = %name, version = %version, sha256 = %short(&sha256),
            kind = %kind, size = bytes.len(), stored = packed.data.len(), forced = opts.force,
            "plugin deployed"
        );
        Ok(deployment)
    }

    /// Refuses a deploy that would make the store hold more than the
    /// policy's budget: what is stored now, plus the new artefact unless it
    /// is there, minus the artefacts retention drops with this deploy that
    /// nothing else uses.
    async fn check_budget(
        &self,
        name: &str,
        version: &str,
        current: Option<&PluginRecord>,
        planned: &PluginRecord,
        packed: &Packed,
        policy: &StoragePolicy,
    ) -> Result<(), StoreError> {
        let stored = self.stored().await?;
        let used: u64 = stored.iter().map(|(_, b)| b).sum();
        let present = stored.iter().any(|(s, _)| s.sha256 == packed.sha256);
        let adding = if present {
            0
        } else {
            u64::try_from(packed.data.len()).unwrap_or(u64::MAX)
        };
        let mut still_used: BTreeSet<String> =
            planned.versions.iter().map(|v| v.sha256.clone()).collect();
        for record in self.records().await? {
            if record.name != name {
                still_used.extend(record.versions.iter().map(|v| v.sha256.clone()));
            }
        }
        let freed: u64 = current
            .map(|r| {
                r.versions
                    .iter()
                    .map(|v| v.sha256.clone())
                    .collect::<BTreeSet<_>>()
            })
            .unwrap_or_default()
            .difference(&still_used)
            .filter_map(|sha| {
                stored
                    .iter()
                    .find(|(s, _)| &s.sha256 == sha)
                    .map(|(_, b)| *b)
            })
            .sum();
        let after = used.saturating_add(adding).saturating_sub(freed);
        if after > policy.budget_bytes && adding > 0 {
            return Err(StoreError::OverBudget {
                what: format!("{name} {version}"),
                adding,
                used,
                budget: policy.budget_bytes,
            });
        }
        Ok(())
    }

    /// Deletes the artefacts `before` used that no plugin uses now (after
    /// retention dropped versions). Failures are left to `gc`.
    async fn delete_unused(&self, before: Option<&PluginRecord>, after: &PluginRecord) {
        let Some(before) = before else { return };
        let kept: BTreeSet<&str> = after.versions.iter().map(|v| v.sha256.as_str()).collect();
        for gone in before
            .versions
            .iter()
            .filter(|v| !kept.contains(v.sha256.as_str()))
        {
            let result = async {
                if !self.artefact_in_use(&gone.sha256).await? {
                    artefact::delete(&self.zk, &self.paths, &gone.sha256).await?;
                    info!(cluster = %self.cluster, plugin = %after.name, version = %gone.version,
                        "version dropped by the retention policy; its artefact deleted");
                }
                Ok::<(), StoreError>(())
            };
            if let Err(e) = result.await {
                warn!(cluster = %self.cluster, sha256 = %short(&gone.sha256), error = %e,
                    "could not delete an unused artefact; `strand plugin gc` will");
            }
        }
    }

    /// Every plugin with its active version and the status each instance
    /// reported, sorted by name.
    ///
    /// # Errors
    /// [`StoreError::Zk`]; [`StoreError::Corrupt`] for an unreadable record.
    pub async fn list(&self) -> Result<Vec<PluginSummary>, StoreError> {
        let statuses = self.statuses().await?;
        let stored = self.stored().await?;
        let mut out = Vec::new();
        for name in self.zk.children(&self.paths.plugins()).await? {
            let Some((record, _)) = self.read_record(&name).await? else {
                continue;
            };
            let instances = statuses
                .iter()
                .filter_map(|(instance, plugins)| {
                    plugins
                        .iter()
                        .find(|(p, _)| *p == name)
                        .map(|(_, s)| InstanceStatus {
                            instance: instance.clone(),
                            status: s.clone(),
                        })
                })
                .collect();
            out.push(PluginSummary {
                name: record.name.clone(),
                kind: record.kind,
                active: record.active_entry().map(|e| record.deployment(e)),
                versions: record.versions.iter().map(|v| v.version.clone()).collect(),
                stored_bytes: record
                    .versions
                    .iter()
                    .map(|v| v.sha256.as_str())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .filter_map(|sha| {
                        stored
                            .iter()
                            .find(|(s, _)| s.sha256 == sha)
                            .map(|(_, b)| *b)
                    })
                    .sum(),
                instances,
            });
        }
        Ok(out)
    }

    /// Every version of `name`, oldest first (the active one marked).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such plugin.
    pub async fn history(&self, name: &str) -> Result<Vec<Deployment>, StoreError> {
        let record = self.require_record(name).await?;
        Ok(record
            .versions
            .iter()
            .map(|e| record.deployment(e))
            .collect())
    }

    /// The active version of `name`; `None` when there is no such plugin or
    /// it has no active version.
    ///
    /// # Errors
    /// [`StoreError::Zk`]; [`StoreError::Corrupt`] for an unreadable record.
    pub async fn active(&self, name: &str) -> Result<Option<Deployment>, StoreError> {
        Ok(self
            .read_record(name)
            .await?
            .and_then(|(r, _)| r.active_entry().map(|e| r.deployment(e))))
    }

    /// The plugin record of `name`, if any.
    ///
    /// # Errors
    /// [`StoreError::Zk`]; [`StoreError::Corrupt`] for an unreadable record.
    pub async fn record(&self, name: &str) -> Result<Option<PluginRecord>, StoreError> {
        Ok(self.read_record(name).await?.map(|(r, _)| r))
    }

    /// Makes `to` (a version, or an unambiguous SHA-256 prefix of 8+ hex
    /// digits) the active version of `name` again; without `to`, the
    /// version that was active before the current one. Refused when the
    /// target's definition would change the states of a model resources use
    /// (see [`PluginStore::rollback_with`] to force it).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown plugin or version, or nothing
    /// to roll back to; [`StoreError::Corrupt`] when the target's artefact is
    /// damaged (nothing changes); [`StoreError::Conflict`] as above.
    pub async fn rollback(&self, name: &str, to: Option<&str>) -> Result<Deployment, StoreError> {
        self.rollback_with(name, to, false).await
    }

    /// [`PluginStore::rollback`], optionally forcing a definition change.
    ///
    /// # Errors
    /// As [`PluginStore::rollback`].
    pub async fn rollback_with(
        &self,
        name: &str,
        to: Option<&str>,
        force: bool,
    ) -> Result<Deployment, StoreError> {
        let record = self.require_record(name).await?;
        let target = match to {
            Some(v) => record.resolve(v).cloned().ok_or_else(|| {
                StoreError::NotFound(format!("{name} has no version or sha256 {v}"))
            })?,
            None => record
                .versions
                .iter()
                .filter(|v| Some(&v.version) != record.active.as_ref())
                .max_by_key(|v| v.activated_at_ms)
                .cloned()
                .ok_or_else(|| {
                    StoreError::NotFound(format!("{name} has no other version to roll back to"))
                })?,
        };
        // Participants must be able to load it: check the stored bytes.
        artefact::read(&self.zk, &self.paths, &target.sha256).await?;
        let helix = target.definition.as_ref().map(|d| d.to_helix(name));
        let version = target.version.clone();
        let record = self
            .commit(
                name,
                |current| {
                    let mut record =
                        current.ok_or_else(|| StoreError::NotFound(format!("plugin {name}")))?;
                    let mut entry = record.version(&version).cloned().ok_or_else(|| {
                        StoreError::NotFound(format!("{name} version {version} was removed"))
                    })?;
                    entry.activated_at_ms = now_ms();
                    record.activate_new(entry);
                    Ok(record)
                },
                helix.as_ref(),
                force,
            )
            .await?;
        info!(cluster = %self.cluster, plugin = %name, version = %version, "plugin rolled back");
        record
            .version(&version)
            .map(|e| record.deployment(e))
            .ok_or_else(|| StoreError::Corrupt(format!("{name}: version {version} vanished")))
    }

    /// Removes version `version` (or SHA-256 prefix) of `name`, and its
    /// artefact when no other version uses it. The active version cannot be
    /// removed (roll back first).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown plugin or version;
    /// [`StoreError::Conflict`] for the active version.
    pub async fn remove(&self, name: &str, version: &str) -> Result<Deployment, StoreError> {
        let record = self.require_record(name).await?;
        let target = record
            .resolve(version)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("{name} has no version {version}")))?;
        let removed = record.deployment(&target);
        self.commit(
            name,
            |current| {
                let mut record =
                    current.ok_or_else(|| StoreError::NotFound(format!("plugin {name}")))?;
                if record.active.as_deref() == Some(target.version.as_str()) {
                    return Err(StoreError::Conflict(format!(
                        "version {} is the active version of {name}; roll back or deploy another \
                         version first",
                        target.version
                    )));
                }
                record.versions.retain(|v| v.version != target.version);
                Ok(record)
            },
            None,
            false,
        )
        .await?;
        if !self.artefact_in_use(&target.sha256).await? {
            artefact::delete(&self.zk, &self.paths, &target.sha256).await?;
        }
        info!(cluster = %self.cluster, plugin = %name, version = %target.version, "plugin version removed");
        Ok(removed)
    }

    /// The artefact `sha256`, verified against its hash.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a malformed hash; [`StoreError::NotFound`]
    /// when missing or incomplete; [`StoreError::Corrupt`] when damaged.
    pub async fn fetch_artefact(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Invalid(format!(
                "{sha256:?} is not a SHA-256 in hex"
            )));
        }
        artefact::read(&self.zk, &self.paths, &sha256.to_ascii_lowercase()).await
    }

    pub(crate) async fn require_cluster(&self) -> Result<(), StoreError> {
        let root = self.paths.cluster().cluster();
        match self.zk.exists(&root).await? {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound(format!("cluster {}", self.cluster))),
        }
    }

    /// The component's description from the inspector, off the async
    /// workers (a compile takes seconds).
    async fn validate(
        &self,
        bytes: &[u8],
        name: Option<&str>,
    ) -> Result<PluginDescription, StoreError> {
        let inspector = self.inspector.clone().ok_or_else(|| {
            StoreError::Host(
                "this plugin store has no plugin host to validate components with".into(),
            )
        })?;
        let bytes = bytes.to_vec();
        let label = name.unwrap_or("deploy").to_owned();
        tokio::task::spawn_blocking(move || inspector.inspect_component(&label, &bytes))
            .await
            .map_err(|e| StoreError::Host(format!("validation task failed: {e}")))?
            .map_err(|e| match e {
                InspectError::Invalid(why) => StoreError::Invalid(why),
                InspectError::Host(why) => StoreError::Host(why),
            })
    }

    async fn read_record(&self, name: &str) -> Result<Option<(PluginRecord, i32)>, StoreError> {
        let path = self.paths.plugin(name);
        let Some((data, stat)) = self.zk.get(&path).await? else {
            return Ok(None);
        };
        let record = ZNRecord::from_bytes(&data)
            .map_err(|e| StoreError::Corrupt(format!("{path}: {e}")))?
            .ok_or_else(|| StoreError::Corrupt(format!("{path} is empty")))?;
        let record = PluginRecord::from_znrecord(&record).map_err(StoreError::Corrupt)?;
        Ok(Some((record, stat.version)))
    }

    async fn require_record(&self, name: &str) -> Result<PluginRecord, StoreError> {
        self.read_record(name)
            .await?
            .map(|(r, _)| r)
            .ok_or_else(|| StoreError::NotFound(format!("plugin {name}")))
    }

    /// Stores the artefact unless an intact copy is there already.
    async fn ensure_artefact(&self, packed: &Packed) -> Result<(), StoreError> {
        let sha256 = packed.sha256.as_str();
        match artefact::read(&self.zk, &self.paths, sha256).await {
            Ok(_) => return Ok(()),
            Err(StoreError::NotFound(_)) => {}
            Err(StoreError::Corrupt(why)) => {
                warn!(cluster = %self.cluster, %why, "stored artefact damaged; writing it again");
            }
            Err(e) => return Err(e),
        }
        artefact::write_packed(&self.zk, &self.paths, packed, self.chunk_size).await?;
        Ok(())
    }

    /// What to do with `STATEMODELDEFS/<name>` for `helix`: nothing (same
    /// definition), create, or replace at the version read.
    async fn definition_op(
        &self,
        name: &str,
        helix: &strand_model::StateModelDefinition,
        force: bool,
    ) -> Result<DefinitionOp, StoreError> {
        let path = self.paths.cluster().state_model_def(name);
        let bytes = helix
            .to_bytes()
            .map_err(|e| StoreError::Invalid(format!("definition of {name}: {e}")))?;
        let existing = match Accessor::new(self.zk.clone()).get(&path).await {
            Ok(found) => found,
            Err(ZkError::Record { .. }) => {
                // An unreadable definition is replaced like a changed one.
                return match self.zk.exists(&path).await? {
                    Some(stat) => Ok(DefinitionOp::Replace(path, bytes, stat.version)),
                    None => Ok(DefinitionOp::Create(path, bytes)),
                };
            }
            Err(e) => return Err(e.into()),
        };
        let Some(existing) = existing else {
            return Ok(DefinitionOp::Create(path, bytes));
        };
        let old = strand_model::StateModelDefinition::from(existing.value);
        let d = diff(&old, helix);
        if d.is_empty() {
            return Ok(DefinitionOp::Keep(path, existing.stat.version));
        }
        if !d.state_changes.is_empty() && !force {
            let users = self.resources_using(name).await?;
            if !users.is_empty() {
                return Err(StoreError::Conflict(format!(
                    "the new definition of {name} changes its states ({}) and resources use it \
                     ({}); their replicas could be stranded. Force to replace it anyway",
                    d.state_changes.join(", "),
                    users.join(", ")
                )));
            }
        }
        Ok(DefinitionOp::Replace(path, bytes, existing.stat.version))
    }

    /// The resources whose IdealState names `model`.
    async fn resources_using(&self, model: &str) -> Result<Vec<String>, StoreError> {
        let accessor = Accessor::new(self.zk.clone());
        let mut users = Vec::new();
        for resource in self
            .zk
            .children(&self.paths.cluster().ideal_states())
            .await?
        {
            let path = self.paths.cluster().ideal_state(&resource);
            if let Some(found) = accessor.get(&path).await?
                && IdealState::from(found.value).state_model_def_ref() == Some(model)
            {
                users.push(resource);
            }
        }
        Ok(users)
    }

    /// Read-modify-write of the plugin record (and the definition) in one
    /// multi-op, compare-and-set, retried when someone else wrote first.
    pub(crate) async fn commit<F>(
        &self,
        name: &str,
        mut change: F,
        helix: Option<&strand_model::StateModelDefinition>,
        force: bool,
    ) -> Result<PluginRecord, StoreError>
    where
        F: FnMut(Option<PluginRecord>) -> Result<PluginRecord, StoreError>,
    {
        let path = self.paths.plugin(name);
        self.zk.create_all(&self.paths.plugins()).await?;
        for _ in 0..MAX_ATTEMPTS {
            let current = self.read_record(name).await?;
            let version = current.as_ref().map(|(_, v)| *v);
            let next = change(current.map(|(r, _)| r))?;
            let bytes = next
                .to_znrecord()
                .to_bytes()
                .map_err(|e| StoreError::Invalid(format!("plugin record {name}: {e}")))?;
            let mut multi = self.zk.multi();
            match version {
                Some(v) => multi.set(path.clone(), bytes, Some(v)),
                None => multi.create(path.clone(), bytes, CreateKind::Persistent),
            };
            if let Some(helix) = helix {
                self.definition_op(name, helix, force)
                    .await?
                    .add_to(&mut multi);
            }
            match multi.commit().await {
                Ok(()) => return Ok(next),
                Err(ZkError::Multi { source, .. })
                    if matches!(
                        *source,
                        ZkError::BadVersion { .. }
                            | ZkError::NodeExists { .. }
                            | ZkError::NoNode { .. }
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(format!(
            "plugin {name} kept changing concurrently; try again"
        )))
    }

    async fn statuses(
        &self,
    ) -> Result<Vec<(String, Vec<(String, status::PluginStatus)>)>, StoreError> {
        let accessor = Accessor::new(self.zk.clone());
        let mut out = Vec::new();
        for instance in self.zk.children(&self.paths.statuses()).await? {
            match accessor.get(&self.paths.status(&instance)).await {
                Ok(Some(found)) => out.push((instance, status::parse(&found.value))),
                Ok(None) => {}
                Err(ZkError::Record { path, source }) => {
                    warn!(%path, error = %source, "unreadable plugin status record; skipped");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    async fn artefact_in_use(&self, sha256: &str) -> Result<bool, StoreError> {
        for name in self.zk.children(&self.paths.plugins()).await? {
            if let Some((record, _)) = self.read_record(&name).await?
                && record.versions.iter().any(|v| v.sha256 == sha256)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// What a commit does with `STATEMODELDEFS/<name>`.
enum DefinitionOp {
    /// The same definition: only check nobody changed it meanwhile.
    Keep(String, i32),
    /// No definition yet.
    Create(String, Vec<u8>),
    /// Replace the one read at this version.
    Replace(String, Vec<u8>, i32),
}

impl DefinitionOp {
    fn add_to(self, multi: &mut Multi<'_>) {
        match self {
            Self::Keep(path, version) => multi.check(path, version),
            Self::Create(path, bytes) => multi.create(path, bytes, CreateKind::Persistent),
            Self::Replace(path, bytes, version) => multi.set(path, bytes, Some(version)),
        };
    }
}

/// Compresses off the async workers (seconds for a big component).
async fn pack(bytes: &[u8]) -> Result<Packed, StoreError> {
    let bytes = bytes.to_vec();
    tokio::task::spawn_blocking(move || Packed::new(&bytes))
        .await
        .map_err(|e| StoreError::Host(format!("compression task failed: {e}")))
}

/// The first 12 hex digits of a hash, for messages.
fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}
