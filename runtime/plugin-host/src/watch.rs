//! Hot swap from a directory: every `<name>.wasm` in it is installed under
//! `<name>`, and replacing a file installs the new version (through the
//! same checks as an API install). Write new files by atomic rename; a
//! half-written file is refused like any broken candidate and retried on
//! the next change.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

use crate::options::PluginOptions;
use crate::registry::{PluginRegistry, SwapError, SwapReport};

/// How long changes are collected before acting on them.
const DEBOUNCE: Duration = Duration::from_millis(100);

/// A directory being watched; dropping it stops the watch.
pub struct DirWatcher {
    _watcher: notify::RecommendedWatcher,
    dir: PathBuf,
}

impl std::fmt::Debug for DirWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirWatcher")
            .field("dir", &self.dir)
            .finish()
    }
}

/// The directory could not be watched.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {dir}: {reason}")]
pub struct WatchError {
    /// The directory.
    pub dir: PathBuf,
    /// Why.
    pub reason: String,
}

/// The plugin name a file stands for: `<name>.wasm`, not hidden.
fn plugin_name(path: &Path) -> Option<String> {
    if path.extension()? != "wasm" {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    (!stem.starts_with('.')).then(|| stem.to_owned())
}

impl PluginRegistry {
    /// Installs every `<name>.wasm` in `dir`, then keeps installing files
    /// that appear or change there, with `options`. Each install's result
    /// goes to `on_report` (and the log).
    ///
    /// # Errors
    /// [`WatchError`] if `dir` cannot be read or watched.
    pub fn watch_dir(
        self: &Arc<Self>,
        dir: &Path,
        options: PluginOptions,
        on_report: impl Fn(Result<SwapReport, SwapError>) + Send + 'static,
    ) -> Result<DirWatcher, WatchError> {
        self.watch_dir_with(dir, move |_| options.clone(), on_report)
    }

    /// [`PluginRegistry::watch_dir`] with options per plugin name (e.g.
    /// each plugin's own grants).
    ///
    /// # Errors
    /// As [`PluginRegistry::watch_dir`].
    pub fn watch_dir_with(
        self: &Arc<Self>,
        dir: &Path,
        options: impl Fn(&str) -> PluginOptions + Send + 'static,
        on_report: impl Fn(Result<SwapReport, SwapError>) + Send + 'static,
    ) -> Result<DirWatcher, WatchError> {
        let werr = |reason: String| WatchError {
            dir: dir.to_owned(),
            reason,
        };
        let (tx, rx) = mpsc::channel::<PathBuf>();
        let mut watcher =
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
                Ok(event) if matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_)) => {
                    for path in event.paths {
                        // The receiver is gone only when the watch is over.
                        let _ = tx.send(path);
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "plugin directory watch error"),
            })
            .map_err(|e| werr(e.to_string()))?;
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(|e| werr(e.to_string()))?;

        let entries = std::fs::read_dir(dir).map_err(|e| werr(e.to_string()))?;
        let mut initial: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        initial.sort();
        for path in initial {
            if let Some(name) = plugin_name(&path) {
                on_report(self.install_file(&name, &path, options(&name)));
            }
        }

        let registry = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("strand-plugin-watch".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut changed = BTreeSet::from([first]);
                    loop {
                        match rx.recv_timeout(DEBOUNCE) {
                            Ok(path) => {
                                changed.insert(path);
                            }
                            Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                    let Some(registry) = registry.upgrade() else {
                        return;
                    };
                    for path in changed.into_iter().filter(|p| p.is_file()) {
                        if let Some(name) = plugin_name(&path) {
                            on_report(registry.install_file(&name, &path, options(&name)));
                        }
                    }
                }
            })
            .map_err(|e| werr(e.to_string()))?;
        Ok(DirWatcher {
            _watcher: watcher,
            dir: dir.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_visible_wasm_files_are_plugins() {
        assert_eq!(
            plugin_name(Path::new("/d/master-slave.wasm")).as_deref(),
            Some("master-slave")
        );
        assert_eq!(plugin_name(Path::new("/d/.master-slave.wasm")), None);
        assert_eq!(plugin_name(Path::new("/d/master-slave.wasm.tmp")), None);
    }
}
