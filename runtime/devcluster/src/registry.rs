//! A plugin registry with state models installed from component files,
//! as the quickstart, the benchmark and the in-process test cluster run
//! their participants (one registry shared by every participant).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use strand_plugin_host::{HostConfig, PluginHost, PluginOptions, PluginRegistry};

/// A registry on a new plugin host whose compiled artefacts are cached in
/// `cache_dir`, with each `(model, component)` installed under the model's
/// name.
///
/// # Errors
/// The host cannot start, or a component does not load (with its name).
pub fn registry(cache_dir: PathBuf, models: &[(&str, &Path)]) -> Result<Arc<PluginRegistry>> {
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(cache_dir),
        ..HostConfig::default()
    })
    .context("starting the plugin host")?;
    let registry = PluginRegistry::new(host);
    for (model, component) in models {
        registry
            .install_file(model, component, PluginOptions::default())
            .with_context(|| format!("loading {} as {model}", component.display()))?;
    }
    Ok(registry)
}
