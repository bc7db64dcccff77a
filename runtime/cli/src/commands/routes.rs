//! `strand routes`: the routing table of a cluster as a spectator sees it
//! (`strand-spectator`) — which live instance serves which partition in
//! which state, from the external view or a customized view — printed as
//! an instance × partition table or JSON, once or redrawn whenever what it
//! shows changes.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Map, Value, json};
use strand_admin::Admin;
use strand_model::PropertyPaths;
use strand_spectator::{
    ProviderConfig, RoutingSnapshot, RoutingTable, RoutingTableProvider, ViewSource,
};

use super::GlobalArgs;

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
}

/// What to show of a snapshot.
#[derive(Debug, Clone)]
pub struct Selection {
    source: ViewSource,
    resource: Option<String>,
    state: Option<String>,
}

impl Selection {
    /// One source's table, optionally one resource and one state only.
    pub fn new(source: ViewSource, resource: Option<String>, state: Option<String>) -> Self {
        Self {
            source,
            resource,
            state,
        }
    }
}

/// Runs `strand routes`.
pub async fn run(global: &GlobalArgs, args: RoutesArgs) -> Result<ExitCode> {
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
    let selection = Selection {
        source,
        resource: args.resource.clone(),
        state: args.state.clone(),
    };
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

/// The selected table's resources, with the filter applied.
fn resources<'a>(table: &'a RoutingTable, selection: &Selection) -> Vec<&'a str> {
    table
        .resources()
        .iter()
        .map(String::as_str)
        .filter(|r| selection.resource.as_deref().is_none_or(|want| want == *r))
        .collect()
}

fn shown(selection: &Selection, state: &str) -> bool {
    selection.state.as_deref().is_none_or(|want| want == state)
}

/// An instance × partition table per resource.
pub fn render_table(
    cluster: &str,
    snapshot: &RoutingSnapshot,
    selection: &Selection,
) -> Result<String> {
    let table = snapshot.table(&selection.source)?;
    let live: Vec<&str> = snapshot
        .live_instances()
        .keys()
        .map(String::as_str)
        .collect();
    let mut out = format!(
        "Routing table of {cluster} from {} (generation {})\nlive instances: {}\n",
        selection.source,
        snapshot.generation(),
        if live.is_empty() {
            "none".to_owned()
        } else {
            live.join(", ")
        }
    );
    let resources = resources(table, selection);
    if resources.is_empty() {
        out.push_str("\n(no routes)\n");
    }
    for resource in resources {
        let instances = table.resource_instances(resource);
        let rows: Vec<(&str, Vec<&str>)> = table
            .partitions(resource)
            .iter()
            .filter_map(|partition| {
                let states = table.state_map(resource, partition)?;
                let cells: Vec<&str> = instances
                    .iter()
                    .map(|i| {
                        states
                            .get(*i)
                            .map(String::as_str)
                            .filter(|s| shown(selection, s))
                            .unwrap_or("-")
                    })
                    .collect();
                cells
                    .iter()
                    .any(|c| *c != "-")
                    .then_some((partition.as_str(), cells))
            })
            .collect();
        let first = rows
            .iter()
            .map(|(p, _)| p.len())
            .chain(["partition".len()])
            .max()
            .unwrap_or(9);
        let widths: Vec<usize> = instances
            .iter()
            .enumerate()
            .map(|(col, i)| {
                rows.iter()
                    .map(|(_, cells)| cells[col].len())
                    .chain([i.len()])
                    .max()
                    .unwrap_or(1)
            })
            .collect();
        out.push_str(&format!("\n{resource}\n"));
        out.push_str(&format!("{:<first$}", "partition"));
        for (instance, width) in instances.iter().zip(&widths) {
            out.push_str(&format!("  {instance:<width$}"));
        }
        out.truncate(out.trim_end_matches(' ').len());
        out.push('\n');
        if rows.is_empty() {
            out.push_str("(no replica in the selected state)\n");
        }
        for (partition, cells) in rows {
            out.push_str(&format!("{partition:<first$}"));
            for (cell, width) in cells.iter().zip(&widths) {
                out.push_str(&format!("  {cell:<width$}"));
            }
            out.truncate(out.trim_end_matches(' ').len());
            out.push('\n');
        }
    }
    Ok(out)
}

/// `{cluster, source, generation, live_instances, resources: {R: {P: {I: S}}}}`.
pub fn to_json(cluster: &str, snapshot: &RoutingSnapshot, selection: &Selection) -> Result<Value> {
    let table = snapshot.table(&selection.source)?;
    let mut resources_json = Map::new();
    for resource in resources(table, selection) {
        let mut partitions = Map::new();
        for partition in table.partitions(resource) {
            let states: Map<String, Value> = table
                .state_map(resource, partition)
                .into_iter()
                .flatten()
                .filter(|(_, s)| shown(selection, s))
                .map(|(i, s)| (i.clone(), Value::String(s.clone())))
                .collect();
            if !states.is_empty() {
                partitions.insert(partition.clone(), Value::Object(states));
            }
        }
        resources_json.insert(resource.to_owned(), Value::Object(partitions));
    }
    let live: BTreeSet<&String> = snapshot.live_instances().keys().collect();
    Ok(json!({
        "cluster": cluster,
        "source": selection.source.to_string(),
        "generation": snapshot.generation(),
        "live_instances": live,
        "resources": resources_json,
    }))
}
