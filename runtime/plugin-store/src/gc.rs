//! Keeping the store within its [`StoragePolicy`]: what the artefacts hold
//! in ZooKeeper ([`Usage`]), and [`PluginStore::gc`], which applies the
//! retention policy to every plugin and deletes the artefacts no version
//! uses.
//!
//! # Guarantees
//! * Level-triggered: `gc` looks at what is there, not at what a deploy
//!   meant to do, so whatever a failed deploy or an interrupted `gc` left
//!   behind (a version over the policy, an artefact nothing uses, the
//!   chunks of a writer that died) is found and finished by the next one.
//! * An artefact no version names is deleted at once only when a version
//!   this `gc` removed named it. Any other unused artefact — incomplete
//!   (no manifest yet) or complete — is left alone until it is older than
//!   [`UNUSED_GRACE`]: a deploy writes its artefact before it records the
//!   version, so a young one may be a deploy's that is about to be
//!   recorded.
//! * An artefact any version of any plugin names is never deleted.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;
use strand_model::time::now_ms;
use strand_zk::{Accessor, Update, ZkError};
use tracing::{info, warn};

use crate::artefact::{self, Stored};
use crate::error::StoreError;
use crate::policy::StoragePolicy;
use crate::record::PluginRecord;
use crate::store::PluginStore;

/// How old an unused artefact no removed version released must be before
/// `gc` deletes it.
pub const UNUSED_GRACE: Duration = Duration::from_secs(600);

/// What the artefacts of a store hold in ZooKeeper.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Bytes in every artefact's chunks, complete or not.
    pub stored_bytes: u64,
    /// Complete artefacts.
    pub artefacts: usize,
    /// Artefacts without a manifest (being written, or left by a writer
    /// that died).
    pub incomplete: usize,
}

/// What a `gc` did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    /// The policy applied.
    pub policy: StoragePolicy,
    /// `(plugin, version)` removed from the records.
    pub removed_versions: Vec<(String, String)>,
    /// Artefacts deleted, with the bytes each held.
    pub deleted_artefacts: Vec<(String, u64)>,
    /// What the store holds afterwards.
    pub usage: Usage,
    /// Whether nothing was changed (`--dry-run`).
    pub dry_run: bool,
}

impl PluginStore {
    /// The cluster's storage policy (defaults when it has none).
    ///
    /// # Errors
    /// [`StoreError::Zk`]; [`StoreError::Corrupt`] for an unreadable record.
    pub async fn policy(&self) -> Result<StoragePolicy, StoreError> {
        let path = self.paths().policy();
        match Accessor::new(self.zk().clone()).get(&path).await {
            Ok(Some(found)) => {
                let (policy, problems) = StoragePolicy::from_record(&found.value);
                for problem in problems {
                    warn!(%path, %problem, "plugin storage policy field ignored");
                }
                Ok(policy)
            }
            Ok(None) => Ok(StoragePolicy::default()),
            Err(ZkError::Record { path, source }) => {
                Err(StoreError::Corrupt(format!("{path}: {source}")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces the cluster's storage policy.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown cluster; [`StoreError::Zk`].
    pub async fn set_policy(&self, policy: &StoragePolicy) -> Result<(), StoreError> {
        self.require_cluster().await?;
        self.zk().create_all(self.paths().root()).await?;
        let record = policy.to_record();
        Accessor::new(self.zk().clone())
            .update(&self.paths().policy(), true, |_| {
                Update::Write(record.clone())
            })
            .await?;
        info!(cluster = %self.cluster(), ?policy, "plugin storage policy set");
        Ok(())
    }

    /// Every artefact znode with its manifest (see [`artefact::list`]), and
    /// for incomplete ones the bytes their chunks already hold.
    pub(crate) async fn stored(&self) -> Result<Vec<(Stored, u64)>, StoreError> {
        let mut out = Vec::new();
        for stored in artefact::list(self.zk(), self.paths()).await? {
            let bytes = match &stored.manifest {
                Some(m) => u64::try_from(m.stored_size).unwrap_or(u64::MAX),
                None => self.chunk_bytes(&stored.sha256).await?,
            };
            out.push((stored, bytes));
        }
        Ok(out)
    }

    async fn chunk_bytes(&self, sha256: &str) -> Result<u64, StoreError> {
        let root = self.paths().artefact(sha256);
        let mut total = 0u64;
        let children = match self.zk().children(&root).await {
            Ok(c) => c,
            Err(ZkError::NoNode { .. }) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        for chunk in children {
            if let Some(stat) = self.zk().exists(&strand_zk::join(&root, &chunk)).await? {
                total += u64::try_from(stat.data_length).unwrap_or(0);
            }
        }
        Ok(total)
    }

    /// What the store's artefacts hold in ZooKeeper now.
    ///
    /// # Errors
    /// [`StoreError::Zk`].
    pub async fn usage(&self) -> Result<Usage, StoreError> {
        Ok(usage_of(&self.stored().await?))
    }

    /// Every plugin record, by name.
    pub(crate) async fn records(&self) -> Result<Vec<PluginRecord>, StoreError> {
        let mut out = Vec::new();
        for name in self.zk().children(&self.paths().plugins()).await? {
            if let Some(record) = self.record(&name).await? {
                out.push(record);
            }
        }
        Ok(out)
    }

    /// Applies the retention policy (`keep` overrides its
    /// `retained_versions`) to every plugin and deletes the artefacts no
    /// remaining version uses; with `dry_run`, only reports what it would
    /// do.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown cluster; [`StoreError::Zk`];
    /// [`StoreError::Corrupt`] for an unreadable record (nothing deleted,
    /// since what it references is unknown).
    pub async fn gc(&self, keep: Option<usize>, dry_run: bool) -> Result<GcReport, StoreError> {
        self.require_cluster().await?;
        let mut policy = self.policy().await?;
        if let Some(keep) = keep {
            policy.retained_versions = keep;
        }
        let mut report = GcReport {
            policy,
            dry_run,
            ..GcReport::default()
        };
        let mut referenced = BTreeSet::new();
        let mut released = BTreeSet::new();
        for record in self.records().await? {
            let mut trimmed = record.clone();
            let dropped = trimmed.retain_recent(policy.retained_versions);
            if !dropped.is_empty() && !dry_run {
                let keep_previous = policy.retained_versions;
                let current = self
                    .commit(
                        &record.name,
                        |current| {
                            let mut r = current.ok_or_else(|| {
                                StoreError::NotFound(format!("plugin {}", record.name))
                            })?;
                            r.retain_recent(keep_previous);
                            Ok(r)
                        },
                        None,
                        false,
                    )
                    .await?;
                trimmed = current;
            }
            released.extend(dropped.iter().map(|v| v.sha256.clone()));
            report.removed_versions.extend(
                dropped
                    .iter()
                    .map(|v| (record.name.clone(), v.version.clone())),
            );
            referenced.extend(trimmed.versions.iter().map(|v| v.sha256.clone()));
        }
        let now = now_ms();
        let grace = i64::try_from(UNUSED_GRACE.as_millis()).unwrap_or(i64::MAX);
        let mut left = Vec::new();
        for (stored, bytes) in self.stored().await? {
            let unused = !referenced.contains(&stored.sha256);
            let abandoned = (stored.manifest.is_some() && released.contains(&stored.sha256))
                || now - stored.created_at_ms > grace;
            if unused && abandoned {
                if !dry_run {
                    artefact::delete(self.zk(), self.paths(), &stored.sha256).await?;
                }
                report
                    .deleted_artefacts
                    .push((stored.sha256.clone(), bytes));
            } else {
                left.push((stored, bytes));
            }
        }
        report.usage = usage_of(&left);
        if !dry_run && (!report.removed_versions.is_empty() || !report.deleted_artefacts.is_empty())
        {
            info!(
                cluster = %self.cluster(),
                versions = report.removed_versions.len(),
                artefacts = report.deleted_artefacts.len(),
                stored_bytes = report.usage.stored_bytes,
                "plugin store garbage-collected"
            );
        }
        Ok(report)
    }
}

fn usage_of(stored: &[(Stored, u64)]) -> Usage {
    Usage {
        stored_bytes: stored.iter().map(|(_, b)| b).sum(),
        artefacts: stored.iter().filter(|(s, _)| s.manifest.is_some()).count(),
        incomplete: stored.iter().filter(|(s, _)| s.manifest.is_none()).count(),
    }
}
