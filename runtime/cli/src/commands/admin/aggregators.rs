//! `strand admin set-aggregator | remove-aggregator | list-aggregators`:
//! which aggregator plugin computes the customized view of which
//! customized-state type. `set-aggregator` with a file deploys it to the
//! cluster's plugin store first (as `strand plugin deploy` does), so the
//! controller — wherever it runs — loads it from there.

use std::path::Path;

use anyhow::{Context, Result, bail};
use strand_admin::Admin;
use strand_plugin_host::{HostConfig, HostInspector, PluginHost, World, inspect_bytes};
use strand_plugin_store::{DeployOptions, PluginKind, PluginStore};

/// Deploys `file` (unless `plugin` names an already deployed aggregator)
/// and binds it to `customized_type`. Returns the plugin's name and, for a
/// deployment, its version.
pub async fn set(
    admin: &Admin,
    cluster: &str,
    customized_type: &str,
    file: Option<&Path>,
    plugin: Option<&str>,
    name: Option<&str>,
) -> Result<(String, Option<String>)> {
    // Refuse an unknown cluster before deploying anything into it.
    admin.aggregator_bindings(cluster).await?;
    let store = PluginStore::new(admin.zk().clone(), cluster);
    let (plugin, version) = match (file, plugin) {
        (Some(file), None) => {
            let bytes =
                std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            let host =
                PluginHost::new(HostConfig::default()).context("starting the plugin host")?;
            let label = name.unwrap_or("aggregator");
            let report = inspect_bytes(&host, label, &bytes, false)
                .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.one_line()))?;
            if report.world != World::Aggregator {
                bail!(
                    "{} is built for the {} world, not the aggregator world",
                    file.display(),
                    report.wit_world
                );
            }
            let deployment = store
                .with_inspector(HostInspector::new(host))
                .deploy(
                    &bytes,
                    &DeployOptions {
                        name: name.map(str::to_owned),
                        ..DeployOptions::default()
                    },
                )
                .await?;
            (deployment.name, Some(deployment.version))
        }
        (None, Some(plugin)) => {
            match store.record(plugin).await? {
                None => bail!("no plugin named {plugin} is deployed to cluster {cluster}"),
                Some(record) if record.kind != PluginKind::Aggregator => {
                    bail!("plugin {plugin} is a state model, not an aggregator")
                }
                Some(_) => {}
            }
            (plugin.to_owned(), None)
        }
        _ => bail!("give either FILE.wasm or --plugin NAME"),
    };
    admin
        .bind_aggregator(cluster, customized_type, &plugin)
        .await?;
    Ok((plugin, version))
}
