//! [`ErrorLog`]: failed transitions recorded where Helix records them, so
//! REST `/errors` and Java tools see them.
//!
//! Layout (Helix's `StatusUpdateUtil.publishErrorRecord`): the znode
//! `INSTANCES/<I>/ERRORS/<session>/<resource>/<partition>` holds a ZNRecord
//! with id `<session>__<resource>`; each failure adds a map field keyed
//! `HELIX_ERROR     <yyyyMMdd-HHmmss.SSSSSS> <partition> Trans:<F>-><T>  <uuid>`
//! (`F`, `T`: the first letter of each state) holding `Message state`,
//! `AdditionalInfo` (the reason), `Class` and `MSG_ID`, merged into what
//! is there. `STATUSUPDATES` stays empty, as in Helix 2.0.1
//! (`ZKHelixDataAccessor.updateProperty` writes nothing for it).
//!
//! # Guarantees
//! * Off the critical path: a transition only queues its error; a
//!   background task writes it, so a failed transition costs the same
//!   ZooKeeper writes as a successful one, and a slow or failing error
//!   write never holds a transition up.
//! * Bounded: a partition's record keeps its [`MAX_ERRORS_PER_PARTITION`]
//!   newest errors; the queue holds at most [`QUEUE_CAPACITY`] (more are
//!   dropped with a warning).

use std::time::Duration;

use strand_model::time::{now_ms, status_update_time};
use strand_model::{Message, PropertyPaths, SessionId, ZNRecord};
use strand_zk::{Accessor, Backoff, Update, Zk};
use tokio::sync::mpsc;
use tracing::{Instrument, warn};

/// Errors kept per partition record.
pub const MAX_ERRORS_PER_PARTITION: usize = 10;
/// Errors waiting to be written at most.
pub const QUEUE_CAPACITY: usize = 1024;
/// How often one error write is tried before it is given up.
const ATTEMPTS: u32 = 8;
/// The `Class` field: who reported the error.
const REPORTER: &str = "strand_participant::engine";

/// One failed transition.
#[derive(Debug, Clone)]
struct Failure {
    resource: String,
    partition: String,
    from: String,
    to: String,
    msg_id: String,
    reason: String,
    at_ms: i64,
}

/// The error log of one session.
#[derive(Debug, Clone)]
pub(crate) struct ErrorLog {
    queue: mpsc::Sender<Failure>,
}

impl ErrorLog {
    /// Starts the writer of `instance`'s errors under `session`.
    pub(crate) fn start(zk: Zk, paths: PropertyPaths, instance: &str, session: SessionId) -> Self {
        let (queue, mut rx) = mpsc::channel::<Failure>(QUEUE_CAPACITY);
        let accessor = Accessor::new(zk);
        let instance = instance.to_owned();
        tokio::spawn(
            async move {
                while let Some(failure) = rx.recv().await {
                    if !write(&accessor, &paths, &instance, session, &failure).await {
                        return; // the session is gone
                    }
                }
            }
            .in_current_span(),
        );
        Self { queue }
    }

    /// Queues the error of a failed transition.
    pub(crate) fn report(&self, message: &Message, from: &str, to: &str, reason: &str) {
        let failure = Failure {
            resource: message.resource_name().unwrap_or_default().to_owned(),
            partition: message.partition_name().unwrap_or_default().to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            msg_id: message.msg_id().to_owned(),
            reason: reason.to_owned(),
            at_ms: now_ms(),
        };
        if self.queue.try_send(failure).is_err() {
            warn!(
                message = message.msg_id(),
                "error log queue full; this error is not recorded in ERRORS"
            );
        }
    }
}

/// The map-field key Helix gives an error of a state transition.
fn error_key(failure: &Failure) -> String {
    let initial = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    format!(
        "{:>4} {:>26} {} Trans:{}->{}  {}",
        "HELIX_ERROR",
        status_update_time(failure.at_ms),
        failure.partition,
        initial(&failure.from),
        initial(&failure.to),
        uuid::Uuid::new_v4()
    )
}

/// Merges the failure into the partition's record, keeping the newest
/// [`MAX_ERRORS_PER_PARTITION`]. Returns false once the session is gone.
async fn write(
    accessor: &Accessor,
    paths: &PropertyPaths,
    instance: &str,
    session: SessionId,
    failure: &Failure,
) -> bool {
    let path = paths.error(instance, session, &failure.resource, &failure.partition);
    let key = error_key(failure);
    let fields = [
        ("Message state", "READ"),
        ("AdditionalInfo", failure.reason.as_str()),
        ("Class", REPORTER),
        ("MSG_ID", failure.msg_id.as_str()),
    ];
    let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2));
    for _ in 0..ATTEMPTS {
        if let Some((parent, _)) = path.rsplit_once('/')
            && let Err(err) = accessor.zk().create_all(parent).await
        {
            if err.is_session_expired() {
                return false;
            }
            backoff.wait().await;
            continue;
        }
        let result = accessor
            .update(&path, true, |current| {
                let mut record = current
                    .unwrap_or_else(|| ZNRecord::new(format!("{session}__{}", failure.resource)));
                let map = record.map_mut(&key);
                for (k, v) in fields {
                    map.insert(k.to_owned(), v.to_owned());
                }
                let mut keys: Vec<String> = record.map_fields.keys().cloned().collect();
                keys.sort();
                let excess = keys.len().saturating_sub(MAX_ERRORS_PER_PARTITION);
                for old in keys.into_iter().take(excess) {
                    record.remove_map_field(&old);
                }
                Update::Write(record)
            })
            .await;
        match result {
            Ok(_) => return true,
            Err(err) if err.is_session_expired() => return false,
            Err(err) => {
                warn!(znode = %path, error = %err, "writing the error record failed; retrying");
                backoff.wait().await;
            }
        }
    }
    warn!(znode = %path, "gave up writing the error record");
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_keys_have_helix_layout() {
        let failure = Failure {
            resource: "TestDB".into(),
            partition: "TestDB_0".into(),
            from: "OFFLINE".into(),
            to: "SLAVE".into(),
            msg_id: "m".into(),
            reason: "boom".into(),
            at_ms: 1_795_303_251_082,
        };
        let key = error_key(&failure);
        let prefix = "HELIX_ERROR     20261121-232051.000082 TestDB_0 Trans:O->S  ";
        assert!(key.starts_with(prefix), "{key:?}");
        assert_eq!(key.len(), prefix.len() + 36, "{key:?}");
    }
}
