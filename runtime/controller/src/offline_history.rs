//! Offline reports the participants did not make: Helix's
//! `BaseControllerDataProvider.updateOfflineInstanceHistory`. An instance
//! that stops gracefully writes `LAST_OFFLINE_TIME` and an `OFFLINE`
//! entry into its `INSTANCES/<i>/HISTORY` itself; one that crashed, or
//! lost its session, leaves `LAST_OFFLINE_TIME=-1` behind. The leader
//! reports such an instance offline at its next run (the time delayed
//! rebalance then counts from), as Java's controller does.
//!
//! # Guarantees
//! * Only a history that still exists, still says ONLINE and still ends
//!   with the session entry the model saw is written: an instance that
//!   came back meanwhile (a new entry) is left alone.
//! * A write that fails is tried again at the next run — at the latest the
//!   periodic one — while the instance stays in
//!   `ClusterModel::unreported_offline`.

use strand_model::records::history::keys as history_keys;
use strand_model::time::now_ms;
use strand_model::{ParticipantHistory, PropertyPaths};
use strand_zk::{Accessor, Update, Zk};
use tracing::{info, warn};

use crate::model::ClusterModel;

/// `LAST_OFFLINE_TIME` of a history whose instance never reported going
/// offline.
const ONLINE: i64 = -1;

/// Whether `history` still says ONLINE.
pub(crate) fn is_unreported(history: &ParticipantHistory) -> bool {
    history.last_offline_time() == Some(ONLINE)
}

/// The newest session entry of `history`, verbatim.
pub(crate) fn newest_entry(history: &ParticipantHistory) -> Option<&String> {
    history
        .record()
        .list(history_keys::HISTORY)
        .and_then(|l| l.last())
}

/// Reports every instance in `model.unreported_offline` offline; those
/// reported become offline since now.
pub(crate) async fn report(zk: &Zk, paths: &PropertyPaths, model: &mut ClusterModel) {
    if model.unreported_offline.is_empty() {
        return;
    }
    let accessor = Accessor::new(zk.clone());
    let pending: Vec<(String, Option<String>)> = model
        .unreported_offline
        .iter()
        .map(|(i, e)| (i.clone(), e.clone()))
        .collect();
    for (instance, newest) in pending {
        if model.snapshot.is_live(&instance) {
            model.unreported_offline.remove(&instance);
            continue;
        }
        let now = now_ms();
        let mut wrote = false;
        let result = accessor
            .update(&paths.participant_history(&instance), false, |current| {
                wrote = false;
                let Some(record) = current else {
                    return Update::Keep;
                };
                let mut history = ParticipantHistory::from(record);
                if !(is_unreported(&history) && newest_entry(&history) == newest.as_ref()) {
                    return Update::Keep;
                }
                history.report_offline(now);
                wrote = true;
                Update::Write(history.into_record())
            })
            .await;
        match result {
            Ok(_) => {
                model.unreported_offline.remove(&instance);
                if wrote {
                    info!(
                        cluster = paths.cluster_name(),
                        instance, "reported offline in its history"
                    );
                    model.snapshot.offline_since.entry(instance).or_insert(now);
                }
            }
            Err(err) => {
                warn!(cluster = paths.cluster_name(), instance, error = %err, "could not report the instance offline in its history; trying again at the next run");
            }
        }
    }
}
