//! `cluster-info`: a summary of a cluster for people (Display) and for
//! tools (JSON).

use std::fmt;

use serde_json::{Value, json};
use strand_model::{ExternalView, IdealState, InstanceConfig, LiveInstance, PropertyPaths};

use crate::Admin;
use crate::error::Result;

/// One instance in a [`ClusterInfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    /// Instance id.
    pub id: String,
    /// Whether the controller may assign replicas to it.
    pub enabled: bool,
    /// Its live session (lowercase hex), if live.
    pub session: Option<String>,
}

/// One resource in a [`ClusterInfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// Resource name.
    pub name: String,
    /// State model name.
    pub state_model: String,
    /// Rebalance mode as Helix spells it.
    pub mode: String,
    /// Partitions in the ideal state.
    pub partitions: usize,
    /// `REPLICAS`.
    pub replicas: String,
    /// Replicas per state in the external view, e.g. `MASTER: 6`.
    pub external_view: Vec<(String, usize)>,
}

/// A cluster's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    /// Cluster name.
    pub cluster: String,
    /// The leading controller, if any.
    pub controller: Option<String>,
    /// Whether maintenance mode is on.
    pub maintenance: bool,
    /// Instances, sorted by id.
    pub instances: Vec<InstanceInfo>,
    /// Resources, sorted by name.
    pub resources: Vec<ResourceInfo>,
    /// State model definitions.
    pub state_models: Vec<String>,
    /// Aggregated customized-state types.
    pub customized_state_types: Vec<String>,
}

impl ClusterInfo {
    /// The summary as JSON, keys in snake_case like every `--json` output
    /// of the `strand` command.
    pub fn to_json(&self) -> Value {
        json!({
            "cluster": self.cluster,
            "controller": self.controller,
            "maintenance": self.maintenance,
            "instances": self.instances.iter().map(|i| json!({
                "id": i.id, "enabled": i.enabled, "live": i.session.is_some(), "session": i.session,
            })).collect::<Vec<_>>(),
            "resources": self.resources.iter().map(|r| json!({
                "name": r.name, "state_model": r.state_model, "mode": r.mode,
                "partitions": r.partitions, "replicas": r.replicas,
                "external_view": r.external_view.iter().map(|(s, n)| (s.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
            })).collect::<Vec<_>>(),
            "state_models": self.state_models,
            "customized_state_types": self.customized_state_types,
        })
    }
}

impl fmt::Display for ClusterInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Cluster {}", self.cluster)?;
        writeln!(
            f,
            "  controller: {}{}",
            self.controller.as_deref().unwrap_or("(none)"),
            if self.maintenance {
                "  [maintenance mode]"
            } else {
                ""
            }
        )?;
        writeln!(f, "  instances ({}):", self.instances.len())?;
        for i in &self.instances {
            let live = i
                .session
                .as_deref()
                .map_or("offline".to_owned(), |s| format!("live, session {s}"));
            let enabled = if i.enabled { "enabled" } else { "DISABLED" };
            writeln!(f, "    {:<24} {enabled:<9} {live}", i.id)?;
        }
        writeln!(f, "  resources ({}):", self.resources.len())?;
        for r in &self.resources {
            let view = if r.external_view.is_empty() {
                "no external view".to_owned()
            } else {
                r.external_view
                    .iter()
                    .map(|(s, n)| format!("{s}={n}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            writeln!(
                f,
                "    {:<24} {} {} partitions={} replicas={}  [{view}]",
                r.name, r.state_model, r.mode, r.partitions, r.replicas
            )?;
        }
        writeln!(f, "  state models: {}", self.state_models.join(", "))?;
        if !self.customized_state_types.is_empty() {
            writeln!(
                f,
                "  aggregated customized states: {}",
                self.customized_state_types.join(", ")
            )?;
        }
        Ok(())
    }
}

impl Admin {
    /// Summarises a cluster.
    pub async fn cluster_info(&self, cluster: &str) -> Result<ClusterInfo> {
        self.require_cluster(cluster).await?;
        let acc = self.accessor();
        let mut instances = Vec::new();
        for id in self
            .zk()
            .children(&PropertyPaths::new(cluster).instance_configs())
            .await?
        {
            let enabled = acc
                .get(&PropertyPaths::new(cluster).instance_config(&id))
                .await?
                .map(|v| InstanceConfig::from(v.value).instance_enabled())
                .unwrap_or(false);
            let session = self
                .zk()
                .exists(&PropertyPaths::new(cluster).live_instance(&id))
                .await?
                .map(|stat| format!("{:x}", stat.ephemeral_owner));
            instances.push(InstanceInfo {
                id,
                enabled,
                session,
            });
        }
        let mut resources = Vec::new();
        for name in self
            .zk()
            .children(&PropertyPaths::new(cluster).ideal_states())
            .await?
        {
            let Some(ideal) = acc
                .get(&PropertyPaths::new(cluster).ideal_state(&name))
                .await?
            else {
                continue;
            };
            let ideal = IdealState::from(ideal.value);
            let mut counts = std::collections::BTreeMap::<String, usize>::new();
            if let Some(view) = acc
                .get(&PropertyPaths::new(cluster).external_view(&name))
                .await?
            {
                let view = ExternalView::from(view.value);
                for partition in view.partitions() {
                    for state in view
                        .state_map(partition)
                        .into_iter()
                        .flat_map(|m| m.values())
                    {
                        *counts.entry(state.clone()).or_default() += 1;
                    }
                }
            }
            resources.push(ResourceInfo {
                state_model: ideal.state_model_def_ref().unwrap_or("?").to_owned(),
                mode: ideal.rebalance_mode().as_str().to_owned(),
                partitions: ideal.partitions().len(),
                replicas: ideal.record().simple("REPLICAS").unwrap_or("?").to_owned(),
                external_view: counts.into_iter().collect(),
                name,
            });
        }
        let controller = acc
            .get(&PropertyPaths::new(cluster).controller_leader())
            .await?
            .map(|v| LiveInstance::from(v.value).id().to_owned());
        let maintenance = self
            .zk()
            .exists(&PropertyPaths::new(cluster).maintenance())
            .await?
            .is_some();
        Ok(ClusterInfo {
            cluster: cluster.to_owned(),
            controller,
            maintenance,
            instances,
            resources,
            state_models: self
                .zk()
                .children(&PropertyPaths::new(cluster).state_model_defs())
                .await?,
            customized_state_types: self.customized_state_types(cluster).await?,
        })
    }
}
