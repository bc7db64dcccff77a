//! [`CacheFeed`]: a lossless, coalescing subscription to a [`crate::TreeCache`].
//!
//! A broadcast channel drops events when its receiver falls behind; a
//! consumer that runs long steps between reads (a controller writing a
//! pipeline run's results) would then have to re-read everything. A feed
//! instead accumulates the changed paths — each path once, in the order
//! of its first change — until the consumer takes them, so nothing is lost
//! however long the consumer is busy, and a burst of changes arrives as
//! one batch.

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use indexmap::IndexSet;
use tokio::sync::Notify;

/// What a feed delivers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedBatch {
    /// Znodes created, changed or deleted since the last batch (each once,
    /// in the order of its first change). A path the cache does not hold
    /// was deleted.
    pub paths: Vec<String>,
    /// The cache re-listed its whole subtree since the last batch (after a
    /// reconnect): state derived from events only should be checked
    /// against the cache now.
    pub resynced: bool,
    /// The session ended: the cache is frozen, nothing more will come.
    pub session_ended: bool,
}

impl FeedBatch {
    /// Whether the batch carries nothing.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && !self.resynced && !self.session_ended
    }
}

#[derive(Debug, Default)]
struct Pending {
    paths: IndexSet<String>,
    resynced: bool,
    session_ended: bool,
}

#[derive(Debug, Default)]
pub(crate) struct FeedState {
    pending: Mutex<Pending>,
    notify: Notify,
}

impl FeedState {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The cache's side: every live feed, written on each applied change.
#[derive(Debug, Default)]
pub(crate) struct Feeds {
    feeds: Mutex<Vec<Weak<FeedState>>>,
}

impl Feeds {
    pub(crate) fn subscribe(&self) -> CacheFeed {
        let state = Arc::new(FeedState::default());
        self.lock().push(Arc::downgrade(&state));
        CacheFeed { state }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Weak<FeedState>>> {
        self.feeds
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn each(&self, mut f: impl FnMut(&mut Pending)) {
        self.lock().retain(|weak| match weak.upgrade() {
            Some(state) => {
                f(&mut state.lock());
                state.notify.notify_one();
                true
            }
            None => false,
        });
    }

    pub(crate) fn publish(&self, paths: &[String]) {
        if paths.is_empty() {
            return;
        }
        self.each(|pending| pending.paths.extend(paths.iter().cloned()));
    }

    pub(crate) fn resynced(&self) {
        self.each(|pending| pending.resynced = true);
    }

    pub(crate) fn session_ended(&self) {
        self.each(|pending| pending.session_ended = true);
    }
}

/// A lossless, coalescing subscription to a cache: see the module docs.
#[derive(Debug)]
pub struct CacheFeed {
    state: Arc<FeedState>,
}

impl CacheFeed {
    /// Everything accumulated so far (possibly nothing), without waiting.
    pub fn take(&mut self) -> FeedBatch {
        let mut pending = self.state.lock();
        FeedBatch {
            paths: std::mem::take(&mut pending.paths).into_iter().collect(),
            resynced: std::mem::take(&mut pending.resynced),
            session_ended: pending.session_ended,
        }
    }

    /// Waits until something has accumulated, then takes it. Returns at
    /// once (with `session_ended`) once the session has ended.
    pub async fn next(&mut self) -> FeedBatch {
        let state = Arc::clone(&self.state);
        loop {
            let notified = state.notify.notified();
            let batch = self.take();
            if !batch.is_empty() {
                return batch;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_coalesce_and_keep_first_change_order() {
        let feeds = Feeds::default();
        let mut feed = feeds.subscribe();
        assert!(feed.take().is_empty());
        feeds.publish(&["/a".into(), "/b".into()]);
        feeds.publish(&["/a".into(), "/c".into()]);
        feeds.resynced();
        let batch = feed.next().await;
        assert_eq!(batch.paths, vec!["/a", "/b", "/c"]);
        assert!(batch.resynced && !batch.session_ended);
        assert!(feed.take().is_empty());
        feeds.session_ended();
        assert!(feed.next().await.session_ended);
        assert!(feed.next().await.session_ended, "an ended feed stays ended");
    }

    #[tokio::test]
    async fn a_waiting_feed_wakes_on_publish() {
        let feeds = Arc::new(Feeds::default());
        let mut feed = feeds.subscribe();
        let publisher = Arc::clone(&feeds);
        let task = tokio::spawn(async move {
            tokio::task::yield_now().await;
            publisher.publish(&["/x".into()]);
        });
        assert_eq!(feed.next().await.paths, vec!["/x"]);
        task.await.expect("publisher");
    }

    #[test]
    fn dropped_feeds_are_forgotten() {
        let feeds = Feeds::default();
        drop(feeds.subscribe());
        feeds.publish(&["/a".into()]);
        assert!(feeds.lock().is_empty());
    }
}
