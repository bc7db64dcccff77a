//! A named place in the registry holding the version currently serving and
//! the one it replaced. Swapping is one pointer exchange: calls that already
//! hold the old version finish on it, new calls load the new one. The
//! process's `strand_plugin_active_version` follows each slot.

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
        strand_metrics::global()
            .plugins
            .activated(&first.info.name, &first.info.version, None);
        Self {
            current: ArcSwap::from_pointee(first),
            previous: Mutex::new(None),
        }
    }

    /// The version serving new calls.
    pub(crate) fn current(&self) -> Arc<Version<K>> {
        self.current.load_full()
    }

    /// Installs `next`; returns the version it replaced (now kept as
    /// previous) and the one that was previous until now. Dropping the
    /// latter frees its pooled instances: do it outside anything timed.
    pub(crate) fn swap(&self, next: Arc<Version<K>>) -> (Arc<Version<K>>, Option<Arc<Version<K>>>) {
        strand_metrics::global().plugins.activated(
            &next.info.name,
            &next.info.version,
            Some(&self.current.load().info.version),
        );
        let old = self.current.swap(next);
        let evicted = self
            .previous
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(old.clone());
        (old, evicted)
    }

    /// The version serving stops serving (its slot is removed).
    pub(crate) fn retire(&self) {
        let current = self.current.load();
        strand_metrics::global()
            .plugins
            .deactivated(&current.info.name, &current.info.version);
    }

    /// Puts the previous version back; returns the version it replaced.
    pub(crate) fn rollback(&self) -> Option<Arc<Version<K>>> {
        let prev = self
            .previous
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        Some(self.swap(prev).0)
    }
}
