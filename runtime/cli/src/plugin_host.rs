//! The plugin host of the `strand` commands that run or check plugins
//! (`participant`, `plugin …`): its compiled cache, how compiles are
//! shown, and whether what plugins print is logged.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use strand_plugin_host::{HostConfig, PluginHost, default_cache_dir};

use crate::compile_progress::Progress;

/// A plugin host whose compiled cache is `cache_dir` (or the shared
/// default), showing compiles as `progress` says, logging what plugins
/// print.
pub fn host(cache_dir: Option<PathBuf>, progress: Progress) -> anyhow::Result<Arc<PluginHost>> {
    new_host(cache_dir, progress, true)
}

pub fn new_host(
    cache_dir: Option<PathBuf>,
    progress: Progress,
    log_guest_output: bool,
) -> anyhow::Result<Arc<PluginHost>> {
    PluginHost::new(HostConfig {
        cache_dir: Some(cache_dir.unwrap_or_else(default_cache_dir)),
        compile_observer: progress.observer(),
        log_guest_output,
        ..HostConfig::default()
    })
    .context("starting the plugin host")
}
