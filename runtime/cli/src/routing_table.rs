//! A routing table as the `strand` command shows it: [`Selection`] (which
//! view, resource and state), [`render_table`] (an instance × partition
//! table per resource) and [`to_json`]. Used by `strand routes` and
//! `strand quickstart`.

use std::collections::BTreeSet;

use anyhow::Result;
use serde_json::{Map, Value, json};
use strand_spectator::{RoutingSnapshot, RoutingTable, ViewSource};

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
