//! `strand routes`: the routing table of a cluster as a spectator sees it
//! (`strand-spectator`) — which live instance serves which partition in
//! which state, from the external view or a customized view — printed as
//! an instance × partition table or JSON, once or redrawn whenever what it
//! shows changes.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use serde_json::Value;
use strand_admin::Admin;
use strand_model::PropertyPaths;
use strand_spectator::{ProviderConfig, RoutingSnapshot, RoutingTableProvider, ViewSource};

use super::GlobalArgs;
use crate::routing_table::{Selection, render_table, to_json};

/// Options of `strand routes`.
#[derive(Debug, Args)]
pub struct RoutesArgs {
    /// Cluster name.
    #[arg(long)]
    pub cluster: String,
    /// Only this resource.
    #[arg(long)]
    pub resource: Option<String>,
    /// Only replicas in this state (e.g. MASTER).
    #[arg(long)]
    pub state: Option<String>,
    /// Route from this customized view type instead of the external view.
    #[arg(long)]
    pub customized: Option<String>,
    /// Redraw whenever the routing table changes (until ctrl-c).
    #[arg(long)]
    pub watch: bool,
    /// JSON instead of a table (with --watch: one document per line).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub metrics: crate::metrics_server::MetricsArgs,
}

/// Runs `strand routes`.
pub async fn run(global: &GlobalArgs, args: RoutesArgs) -> Result<ExitCode> {
    if args.metrics.metrics_listen.is_some() && !args.watch {
        bail!("--metrics-listen needs --watch (without it, strand routes prints once and exits)");
    }
    args.metrics.start().await?;
    let admin = Admin::connect_with(global.zk_config()?).await?;
    if !admin.is_cluster_setup(&args.cluster).await? {
        bail!("cluster {} is not set up", args.cluster);
    }
    let mut config = ProviderConfig::new(global.zk_config()?, &args.cluster);
    let source = match &args.customized {
        Some(state_type) => {
            let types = admin.customized_state_types(&args.cluster).await?;
            if !types.iter().any(|t| t == state_type) {
                bail!(
                    "customized-state type {state_type} is not aggregated in {} (aggregated types: {})",
                    args.cluster,
                    if types.is_empty() {
                        "none".to_owned()
                    } else {
                        types.join(", ")
                    }
                );
            }
            config = config.with_customized(state_type)?;
            ViewSource::customized(state_type)?
        }
        None => ViewSource::ExternalView,
    };
    if let Some(resource) = &args.resource {
        let paths = PropertyPaths::new(&args.cluster);
        let zk = admin.zk();
        if zk.exists(&paths.ideal_state(resource)).await?.is_none()
            && zk.exists(&paths.external_view(resource)).await?.is_none()
        {
            bail!("resource {resource} not found in cluster {}", args.cluster);
        }
    }
    drop(admin);
    let provider = RoutingTableProvider::start(config).await?;
    let selection = Selection::new(source, args.resource.clone(), args.state.clone());
    let render = |snapshot: &RoutingSnapshot| -> Result<String> {
        Ok(if args.json {
            let mut text = serde_json::to_string(&to_json(&args.cluster, snapshot, &selection)?)?;
            text.push('\n');
            text
        } else {
            render_table(&args.cluster, snapshot, &selection)?
        })
    };
    let mut stdout = std::io::stdout();
    if !args.watch {
        stdout.write_all(render(&provider.snapshot())?.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let redraw = !args.json && stdout.is_terminal();
    let mut changes = provider.subscribe();
    // What was last shown, without the generation: a change elsewhere in
    // the cluster (another resource, another state) prints nothing.
    let mut shown: Option<Value> = None;
    loop {
        let snapshot = changes.borrow_and_update().clone();
        let content = shown_content(&args.cluster, &snapshot, &selection)?;
        if shown.as_ref() != Some(&content) {
            shown = Some(content);
            let text = render(&snapshot)?;
            if redraw {
                // Clear the screen and go home, then draw.
                write!(stdout, "\x1b[2J\x1b[H")?;
            } else if !args.json {
                writeln!(stdout, "---")?;
            }
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { break },
            result = tokio::signal::ctrl_c() => { result?; break }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What a document shows of a snapshot, apart from its generation.
fn shown_content(
    cluster: &str,
    snapshot: &RoutingSnapshot,
    selection: &Selection,
) -> Result<Value> {
    let mut content = to_json(cluster, snapshot, selection)?;
    if let Some(map) = content.as_object_mut() {
        map.remove("generation");
    }
    Ok(content)
}
