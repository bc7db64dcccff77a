//! A named place in the registry holding the version currently serving and
//! the one it replaced. Swapping is one pointer exchange: calls that already
//! hold the old version finish on it, new calls load the new one.

use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

use crate::kind::Kind;
use crate::version::Version;

pub(crate) struct Slot<K: Kind> {
    current: ArcSwap<Version<K>>,
    previous: Mutex<Option<Arc<Version<K>>>>,
}

impl<K: Kind> Slot<K> {
    pub(crate) fn new(first: Version<K>) -> Self {
        Self {
            current: ArcSwap::from_pointee(first),
            previous: Mutex::new(None),
        }
    }

    /// The version serving new calls.
    pub(crate) fn current(&self) -> Arc<Version<K>> {
        self.current.load_full()
    }

    /// Installs `next`; returns the version it replaced (kept as previous).
    pub(crate) fn swap(&self, next: Arc<Version<K>>) -> Arc<Version<K>> {
        let old = self.current.swap(next);
        *self.previous.lock().unwrap_or_else(PoisonError::into_inner) = Some(old.clone());
        old
    }

    /// Puts the previous version back; returns the version it replaced.
    pub(crate) fn rollback(&self) -> Option<Arc<Version<K>>> {
        let prev = self
            .previous
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        Some(self.swap(prev))
    }
}
