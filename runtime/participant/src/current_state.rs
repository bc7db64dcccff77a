//! Writing this session's current states
//! (`INSTANCES/<I>/CURRENTSTATES/<session>/<resource>`) the way the Java
//! participant does: the record is created with Helix's simple fields on
//! first use, each finished transition sets the partition's
//! `CURRENT_STATE`, `PREVIOUS_STATE`, `START_TIME`, `END_TIME`, `INFO` and
//! `TRIGGERED_BY`, and DROPPED removes the partition (the record goes with
//! its last partition).
//!
//! # Guarantees
//! Transitions of many partitions of one resource finishing at once are
//! written as one batched compare-and-set ([`GroupCommit`]); none is lost.

use std::sync::Arc;

use strand_model::records::DROPPED;
use strand_model::{CurrentState, PropertyPaths, SessionId, ZNRecord};
use strand_zk::{Accessor, CreateKind, Edit, GroupCommit, ZkError};

/// A finished transition, as recorded in the current state.
#[derive(Debug, Clone)]
pub struct Recorded<'a> {
    /// The partition.
    pub partition: &'a str,
    /// The new state (`ERROR` on failure; `DROPPED` removes the partition).
    pub state: &'a str,
    /// The state before.
    pub previous: &'a str,
    /// When the transition started (ms).
    pub start_ms: i64,
    /// When it ended (ms).
    pub end_ms: i64,
    /// The plugin's note, or the failure's reason.
    pub info: &'a str,
    /// The message's `SRC_NAME`.
    pub triggered_by: &'a str,
}

/// The current states of one instance in one session.
#[derive(Debug, Clone)]
pub struct CurrentStateWriter {
    accessor: Accessor,
    commits: GroupCommit,
    paths: PropertyPaths,
    instance: String,
    session: SessionId,
}

impl CurrentStateWriter {
    /// A writer for `instance`'s records under `session`.
    pub fn new(
        accessor: Accessor,
        paths: PropertyPaths,
        instance: &str,
        session: SessionId,
    ) -> Self {
        Self {
            commits: GroupCommit::new(accessor.clone()),
            accessor,
            paths,
            instance: instance.to_owned(),
            session,
        }
    }

    fn path(&self, resource: &str) -> String {
        self.paths
            .current_state(&self.instance, self.session, resource)
    }

    /// Creates the resource's record if this session has none yet.
    pub async fn ensure(&self, resource: &str, model: &str, factory: &str) -> Result<(), ZkError> {
        let path = self.path(resource);
        if self.accessor.zk().exists(&path).await?.is_some() {
            return Ok(());
        }
        let record = CurrentState::new(resource, self.session, model, factory).into_record();
        let mut created = self
            .accessor
            .create(&path, &record, CreateKind::Persistent)
            .await;
        if matches!(created, Err(ZkError::NoNode { .. })) {
            let parent = self.paths.current_states(&self.instance, self.session);
            self.accessor.zk().create_all(&parent).await?;
            created = self
                .accessor
                .create(&path, &record, CreateKind::Persistent)
                .await;
        }
        match created {
            Ok(_) | Err(ZkError::NodeExists { .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Records a finished transition (batched with others of the same
    /// resource finishing at the same time).
    pub async fn record(&self, resource: &str, entry: &Recorded<'_>) -> Result<(), ZkError> {
        let session = self.session;
        let partition = entry.partition.to_owned();
        let state = entry.state.to_owned();
        let previous = entry.previous.to_owned();
        let (start_ms, end_ms) = (entry.start_ms, entry.end_ms);
        let info = entry.info.to_owned();
        let triggered_by = entry.triggered_by.to_owned();
        let edit: Edit = Arc::new(move |record: &mut Option<ZNRecord>| {
            // The record is created by `ensure` before any transition runs;
            // if it vanished, the session's states are gone with it.
            let Some(existing) = record.take() else {
                return;
            };
            let mut cs = CurrentState::from(existing);
            if state == DROPPED {
                cs.remove_partition(&partition);
                if cs.partitions().next().is_none() {
                    return;
                }
            } else {
                cs.set_session_id(session);
                cs.set_state(&partition, &state);
                cs.set_previous_state(&partition, &previous);
                cs.set_start_time(&partition, start_ms);
                cs.set_end_time(&partition, end_ms);
                cs.set_info(&partition, &info);
                cs.set_triggered_by(&partition, &triggered_by);
            }
            *record = Some(cs.into_record());
        });
        self.commits.apply(&self.path(resource), edit).await
    }
}
