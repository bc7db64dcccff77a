//! Shared set-up: one host per test with a process-wide compiled-artefact
//! cache, the built plugins, and transition contexts.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use strand_plugin_host::{
    HostConfig, PluginHost, PluginOptions, PluginRegistry, TransitionContext,
};

/// The cache directory shared by the tests of this process.
pub fn cache_dir() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
        .to_owned()
}

pub fn host() -> Arc<PluginHost> {
    PluginHost::new(HostConfig {
        cache_dir: Some(cache_dir()),
        ..HostConfig::default()
    })
    .expect("plugin host")
}

pub fn plugin(name: &str) -> PathBuf {
    strand_devcluster::plugins::plugin_path(name).expect("built plugin")
}

/// A registry with `plugin` installed under `name`.
pub fn registry_with(name: &str, plugin_name: &str, options: PluginOptions) -> Arc<PluginRegistry> {
    let registry = PluginRegistry::new(host());
    registry
        .install_file(name, &plugin(plugin_name), options)
        .expect("install");
    registry
}

pub fn ctx(partition: &str, from: &str, to: &str) -> TransitionContext {
    TransitionContext {
        cluster: "c1".into(),
        instance: "host_12000".into(),
        resource: "db".into(),
        partition: partition.into(),
        from_state: from.into(),
        to_state: to.into(),
        message_id: "m-1".into(),
        config: Vec::new(),
    }
}
