//! [`GroupCommit`]: many concurrent edits of one record become one write —
//! what Helix's `GroupCommit` does for current and customized states.
//!
//! Writers queue an edit per path; whoever holds the path's turn takes
//! every queued edit, applies them in order to the latest record in one
//! compare-and-set write, and reports the outcome to each writer. Edits
//! from other processes are still safe: the write is versioned and retried
//! on conflict with all the batch's edits re-applied.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use strand_model::ZNRecord;
use tokio::sync::oneshot;

use crate::accessor::{Accessor, Update};
use crate::error::{Result, ZkError};

/// One edit of a record: `None` is "no record" (missing, or delete it).
pub type Edit = Arc<dyn Fn(&mut Option<ZNRecord>) + Send + Sync>;

/// How a batch failed, as told to each of its writers.
#[derive(Debug, Clone)]
enum Failure {
    Expired,
    Other(String),
}

type Waiter = oneshot::Sender<Result<(), Failure>>;

#[derive(Default)]
struct PathQueue {
    pending: Mutex<Vec<(Edit, Waiter)>>,
    turn: tokio::sync::Mutex<()>,
}

/// Batches concurrent edits per znode.
#[derive(Clone)]
pub struct GroupCommit {
    accessor: Accessor,
    queues: Arc<Mutex<HashMap<String, Arc<PathQueue>>>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl GroupCommit {
    /// Group commits over `accessor`'s session.
    pub fn new(accessor: Accessor) -> Self {
        Self {
            accessor,
            queues: Arc::default(),
        }
    }

    /// Applies `edit` to the record at `path` (whose parent must exist),
    /// together with whatever other edits of that path are queued. When the
    /// edits leave no record, the znode is deleted.
    pub async fn apply(&self, path: &str, edit: Edit) -> Result<()> {
        let queue = {
            let mut queues = lock(&self.queues);
            Arc::clone(queues.entry(path.to_owned()).or_default())
        };
        let (tx, rx) = oneshot::channel();
        lock(&queue.pending).push((edit, tx));
        {
            let _turn = queue.turn.lock().await;
            let batch: Vec<(Edit, Waiter)> = std::mem::take(&mut *lock(&queue.pending));
            if !batch.is_empty() {
                let edits: Vec<Edit> = batch.iter().map(|(e, _)| Arc::clone(e)).collect();
                let outcome = self
                    .accessor
                    .update(path, true, |current| {
                        let mut record = current;
                        for edit in &edits {
                            edit(&mut record);
                        }
                        match record {
                            Some(record) => Update::Write(record),
                            None => Update::Delete,
                        }
                    })
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        if e.is_session_expired() {
                            Failure::Expired
                        } else {
                            Failure::Other(e.to_string())
                        }
                    });
                for (_, waiter) in batch {
                    let _ = waiter.send(outcome.clone());
                }
            }
        }
        self.forget_if_idle(path, &queue);
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Failure::Expired)) => Err(ZkError::SessionExpired),
            Ok(Err(Failure::Other(reason))) => Err(ZkError::GroupCommit {
                path: path.to_owned(),
                reason,
            }),
            Err(_) => Err(ZkError::GroupCommit {
                path: path.to_owned(),
                reason: "the batch's writer went away".into(),
            }),
        }
    }

    fn forget_if_idle(&self, path: &str, queue: &Arc<PathQueue>) {
        let mut queues = lock(&self.queues);
        // Two references: the map's and ours. Nobody else is queued.
        if Arc::strong_count(queue) == 2 && lock(&queue.pending).is_empty() {
            queues.remove(path);
        }
    }
}
