//! `strand admin …`: cluster administration, shaped like Helix's
//! `helix-admin` (ClusterSetup). Each subcommand maps to one operation of
//! [`strand_admin::Admin`]; this module only parses and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use strand_admin::{Admin, ClusterAcl, ConfigScope, RebalanceMode};
use strand_zk::AclEntry;

use super::GlobalArgs;

mod aggregators;

/// Admin subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a cluster with Helix's layout and the built-in state models.
    AddCluster {
        /// Cluster name.
        cluster: String,
        /// Protect every znode of the cluster with a ZooKeeper ACL: only
        /// the principal of --zk-auth-file (and --acl-entry's) may change
        /// it; everyone may read unless --private-reads.
        #[arg(long)]
        acl: bool,
        /// Another principal that may change the cluster, as ZooKeeper
        /// writes ACL entries: `digest:USER:BASE64SHA1:cdrwa`,
        /// `sasl:NAME:cdrwa`, `ip:10.0.0.0/8:cdrwa` (repeatable; implies --acl).
        #[arg(long = "acl-entry", value_name = "SCHEME:ID:PERMS", value_parser = parse_acl_entry)]
        acl_entries: Vec<AclEntry>,
        /// With --acl: no read access for unauthenticated clients either.
        #[arg(long)]
        private_reads: bool,
    },
    /// Delete a cluster (refused while instances are live or a controller leads).
    DropCluster {
        /// Cluster name.
        cluster: String,
    },
    /// List the clusters on this ZooKeeper.
    ListClusters {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Add an instance (`host:port` or `host_port`: id `host_port`; any
    /// other name, such as `P0`, is the id itself, as in Helix).
    AddInstance {
        /// Cluster name.
        cluster: String,
        /// `host:port`, `host_port`, or a name.
        instance: String,
    },
    /// Remove an instance (refused while it is live).
    DropInstance {
        /// Cluster name.
        cluster: String,
        /// Instance id.
        instance: String,
    },
    /// Let the controller assign replicas to an instance again.
    EnableInstance {
        /// Cluster name.
        cluster: String,
        /// Instance id.
        instance: String,
    },
    /// Move every replica off an instance (it stays in the cluster).
    DisableInstance {
        /// Cluster name.
        cluster: String,
        /// Instance id.
        instance: String,
        /// Why, recorded in the instance config.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Drain an instance before maintenance: Helix's `EVACUATE` instance
    /// operation — its top states are handed to other replicas and its
    /// FULL_AUTO replicas move off; it takes no new assignment.
    DrainInstance {
        /// Cluster name.
        cluster: String,
        /// Instance id.
        instance: String,
        /// Why, recorded in the operation's `REASON`.
        #[arg(long)]
        reason: Option<String>,
        /// Wait until the drain has finished (no top state, no FULL_AUTO
        /// replica, no pending message left); exit 1 with what is left if
        /// it has not within `--timeout`.
        #[arg(long)]
        wait: bool,
        /// With `--wait`: wait only until every top state has moved.
        #[arg(long, requires = "wait")]
        top_states_only: bool,
        /// With `--wait`: how long to wait (e.g. `30s`, `5m`).
        #[arg(long, default_value = "5m", value_parser = humantime::parse_duration, requires = "wait")]
        timeout: std::time::Duration,
    },
    /// End a drain: the instance operation goes back to `ENABLE`.
    UndrainInstance {
        /// Cluster name.
        cluster: String,
        /// Instance id.
        instance: String,
    },
    /// Tag an instance (Helix's `addInstanceTag`): FULL_AUTO resources with
    /// that instance group tag are placed on tagged instances only.
    #[command(alias = "addInstanceTag")]
    AddInstanceTag {
        /// Cluster name.
        cluster: String,
        /// Instance id.
        instance: String,
        /// The tag.
        tag: String,
    },
    /// Remove a tag from an instance (Helix's `removeInstanceTag`).
    #[command(alias = "removeInstanceTag")]
    RemoveInstanceTag {
        /// Cluster name.
        cluster: String,
        /// Instance id.
        instance: String,
        /// The tag.
        tag: String,
    },
    /// List a cluster's instances (Helix's `listInstances`), or only those
    /// with a tag.
    #[command(alias = "listInstances")]
    ListInstances {
        /// Cluster name.
        cluster: String,
        /// Only instances with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Add a resource with no partitions placed yet (see `rebalance`).
    AddResource {
        /// Cluster name.
        cluster: String,
        /// Resource name.
        resource: String,
        /// Number of partitions.
        partitions: u32,
        /// State model definition (e.g. MasterSlave).
        state_model: String,
        /// Rebalance mode.
        #[arg(long, value_enum, default_value_t = ModeArg::SemiAuto)]
        mode: ModeArg,
    },
    /// Remove a resource (participants then drop its replicas).
    DropResource {
        /// Cluster name.
        cluster: String,
        /// Resource name.
        resource: String,
    },
    /// Set the replica count and write partitions / preference lists.
    Rebalance {
        /// Cluster name.
        cluster: String,
        /// Resource name.
        resource: String,
        /// Replicas per partition.
        replicas: u32,
    },
    /// Add a resource from a complete IdealState ZNRecord JSON file (Helix's
    /// `addIdealState`; its id must be the resource name).
    #[command(alias = "addIdealState")]
    AddIdealState {
        /// Cluster name.
        cluster: String,
        /// Resource name.
        resource: String,
        /// The IdealState.
        file: PathBuf,
    },
    /// Let the controller bring a resource's replicas up again.
    EnableResource {
        /// Cluster name.
        cluster: String,
        /// Resource name.
        resource: String,
    },
    /// Take every replica of a resource offline (`HELIX_ENABLED=false` in
    /// its IdealState); it stays defined.
    DisableResource {
        /// Cluster name.
        cluster: String,
        /// Resource name.
        resource: String,
    },
    /// Resume the controller's pipeline for a cluster (removes the PAUSE
    /// signal; Helix's `enableCluster … true`).
    EnableCluster {
        /// Cluster name.
        cluster: String,
    },
    /// Pause the controller's pipeline for a cluster: no transition is
    /// sent until it is enabled again (Helix's `enableCluster … false`).
    DisableCluster {
        /// Cluster name.
        cluster: String,
        /// Why, recorded in the PAUSE signal.
        #[arg(long, default_value = "paused by strand admin")]
        reason: String,
    },
    /// Set config keys in a scope, as Helix's `setConfig`:
    /// `set-config RESOURCE myCluster,myDB k1=v1,k2=v2` (scopes CLUSTER
    /// C, PARTICIPANT C,INSTANCE, RESOURCE C,RESOURCE, PARTITION
    /// C,RESOURCE,PARTITION).
    #[command(alias = "setConfig")]
    SetConfig {
        /// CLUSTER, PARTICIPANT, RESOURCE or PARTITION.
        scope: String,
        /// The scope's arguments, comma-separated, the cluster first.
        scope_args: String,
        /// `k1=v1,k2=v2`.
        key_values: String,
    },
    /// Print config keys of a scope, as Helix's `getConfig` (a ZNRecord
    /// whose simple fields are the keys that are set).
    #[command(alias = "getConfig")]
    GetConfig {
        /// CLUSTER, PARTICIPANT, RESOURCE or PARTITION.
        scope: String,
        /// The scope's arguments, comma-separated, the cluster first.
        scope_args: String,
        /// `k1,k2`.
        keys: String,
    },
    /// Remove config keys from a scope, as Helix's `removeConfig`.
    #[command(alias = "removeConfig")]
    RemoveConfig {
        /// CLUSTER, PARTICIPANT, RESOURCE or PARTITION.
        scope: String,
        /// The scope's arguments, comma-separated, the cluster first.
        scope_args: String,
        /// `k1,k2`.
        keys: String,
    },
    /// Add a state model definition from a ZNRecord JSON file.
    AddStateModelDef {
        /// Cluster name.
        cluster: String,
        /// The definition (Helix's StateModelDefinition ZNRecord).
        file: PathBuf,
    },
    /// Show a cluster: instances, resources, state models, controller.
    ClusterInfo {
        /// Cluster name.
        cluster: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show or change the customized-state types that are aggregated.
    CustomizedStateConfig {
        /// Cluster name.
        cluster: String,
        #[command(subcommand)]
        action: CustomizedStateAction,
    },
    /// Compute a customized-state type's view with an aggregator plugin
    /// (deploys FILE to the cluster unless --plugin names a deployed one).
    SetAggregator {
        /// Cluster name.
        cluster: String,
        /// The customized-state type.
        r#type: String,
        /// The aggregator component to deploy and bind.
        #[arg(required_unless_present = "plugin")]
        file: Option<PathBuf>,
        /// Bind an aggregator already deployed under this name instead.
        #[arg(long, conflicts_with_all = ["file", "name"])]
        plugin: Option<String>,
        /// Deploy FILE under this name (default: the name it reports).
        #[arg(long)]
        name: Option<String>,
    },
    /// Go back to Helix's default view for a customized-state type.
    RemoveAggregator {
        /// Cluster name.
        cluster: String,
        /// The customized-state type.
        r#type: String,
    },
    /// Print the aggregator plugins bound to customized-state types.
    ListAggregators {
        /// Cluster name.
        cluster: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Take every partition in ERROR on an instance out of it (Helix's
    /// `resetInstance`).
    #[command(alias = "resetInstance")]
    ResetInstance {
        /// Cluster name.
        cluster: String,
        /// Instance id.
        instance: String,
    },
    /// Take every partition of a resource in ERROR, on any live instance,
    /// out of it (Helix's `resetResource`).
    #[command(alias = "resetResource")]
    ResetResource {
        /// Cluster name.
        cluster: String,
        /// Resource name.
        resource: String,
    },
    /// Let a resource's partitions be served on an instance again.
    EnablePartition {
        /// Cluster name.
        cluster: String,
        /// Instance id.
        instance: String,
        /// Resource name.
        resource: String,
        /// Partitions.
        #[arg(required = true)]
        partitions: Vec<String>,
    },
    /// Take a resource's partitions offline on one instance (Helix's
    /// `enablePartition false`; `HELIX_DISABLED_PARTITION` in its config).
    DisablePartition {
        /// Cluster name.
        cluster: String,
        /// Instance id.
        instance: String,
        /// Resource name.
        resource: String,
        /// Partitions.
        #[arg(required = true)]
        partitions: Vec<String>,
    },
    /// Take partitions out of ERROR (sends ERROR → initial-state transitions).
    ResetPartition {
        /// Cluster name.
        cluster: String,
        /// Instance id.
        instance: String,
        /// Resource name.
        resource: String,
        /// Partitions to reset.
        #[arg(required = true)]
        partitions: Vec<String>,
    },
    /// Print a ZooKeeper subtree with its records.
    Dump {
        /// The path, e.g. `/MYCLUSTER/IDEALSTATES`.
        path: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// What to do with the customized-state config.
#[derive(Debug, Subcommand)]
pub enum CustomizedStateAction {
    /// Aggregate this type into a customized view.
    AddType {
        /// The customized-state type.
        r#type: String,
    },
    /// Stop aggregating this type.
    RemoveType {
        /// The customized-state type.
        r#type: String,
    },
    /// Print the aggregated types.
    Get {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Rebalance modes as the CLI spells them.
#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ModeArg {
    /// The controller places replicas.
    FullAuto,
    /// Preference lists decide placement; the controller decides states.
    SemiAuto,
    /// The ideal state's maps decide placement and states.
    Customized,
}

impl From<ModeArg> for RebalanceMode {
    fn from(mode: ModeArg) -> Self {
        match mode {
            ModeArg::FullAuto => RebalanceMode::FullAuto,
            ModeArg::SemiAuto => RebalanceMode::SemiAuto,
            ModeArg::Customized => RebalanceMode::Customized,
        }
    }
}

fn parse_acl_entry(value: &str) -> Result<AclEntry, String> {
    AclEntry::parse(value).map_err(|e| e.to_string())
}

/// Prints a value as pretty JSON (the `--json` form of every command).
fn print_json(value: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Runs an admin subcommand.
pub async fn run(global: &GlobalArgs, cmd: AdminCommand) -> Result<ExitCode> {
    if let AdminCommand::AddCluster {
        acl: false,
        acl_entries,
        private_reads: true,
        ..
    } = &cmd
        && acl_entries.is_empty()
    {
        bail!("--private-reads only makes sense with --acl");
    }
    let admin = Admin::connect_with(global.zk_config()?).await?;
    match cmd {
        AdminCommand::AddCluster {
            cluster,
            acl,
            acl_entries,
            private_reads,
        } => {
            if acl || !acl_entries.is_empty() {
                let acl = ClusterAcl {
                    principals: acl_entries,
                    public_reads: !private_reads,
                };
                admin.add_cluster_with_acl(&cluster, &acl).await?;
                let entries: Vec<String> = acl.entries().iter().map(|e| e.to_string()).collect();
                println!("Created cluster {cluster} (ACL {})", entries.join(","));
            } else {
                admin.add_cluster(&cluster).await?;
                println!("Created cluster {cluster}");
            }
        }
        AdminCommand::DropCluster { cluster } => {
            admin.drop_cluster(&cluster).await?;
            println!("Dropped cluster {cluster}");
        }
        AdminCommand::ListClusters { json } => {
            let clusters = admin.list_clusters().await?;
            if json {
                print_json(&serde_json::json!({ "clusters": clusters }))?;
            } else {
                for cluster in clusters {
                    println!("{cluster}");
                }
            }
        }
        AdminCommand::AddInstance { cluster, instance } => {
            let id = admin.add_instance(&cluster, &instance).await?;
            println!("Added instance {id} to {cluster}");
        }
        AdminCommand::DropInstance { cluster, instance } => {
            admin.drop_instance(&cluster, &instance).await?;
            println!("Dropped instance {instance} from {cluster}");
        }
        AdminCommand::AddInstanceTag {
            cluster,
            instance,
            tag,
        } => {
            admin.add_instance_tag(&cluster, &instance, &tag).await?;
            println!("Tagged {instance} with {tag}");
        }
        AdminCommand::RemoveInstanceTag {
            cluster,
            instance,
            tag,
        } => {
            admin.remove_instance_tag(&cluster, &instance, &tag).await?;
            println!("Removed tag {tag} from {instance}");
        }
        AdminCommand::ListInstances { cluster, tag, json } => {
            let instances = match &tag {
                Some(tag) => admin.list_instances_with_tag(&cluster, tag).await?,
                None => {
                    let mut all = admin.list_instances(&cluster).await?;
                    all.sort();
                    all
                }
            };
            if json {
                print_json(&serde_json::json!({ "instances": instances }))?;
            } else {
                for instance in instances {
                    println!("{instance}");
                }
            }
        }
        AdminCommand::EnableInstance { cluster, instance } => {
            admin
                .set_instance_enabled(&cluster, &instance, true, None)
                .await?;
            println!("Enabled {instance}");
        }
        AdminCommand::DisableInstance {
            cluster,
            instance,
            reason,
        } => {
            admin
                .set_instance_enabled(&cluster, &instance, false, reason.as_deref())
                .await?;
            println!("Disabled {instance}");
        }
        AdminCommand::DrainInstance {
            cluster,
            instance,
            reason,
            wait,
            top_states_only,
            timeout,
        } => {
            admin
                .drain_instance(&cluster, &instance, reason.as_deref())
                .await?;
            println!("Draining {instance} (instance operation EVACUATE)");
            if wait {
                let goal = if top_states_only {
                    strand_admin::DrainGoal::TopStates
                } else {
                    strand_admin::DrainGoal::Finished
                };
                let watch =
                    strand_admin::DrainWatch::start(admin.zk(), &cluster, &instance).await?;
                let status = watch.wait(goal, timeout).await;
                let done = match goal {
                    strand_admin::DrainGoal::TopStates => status.top_states_moved(),
                    strand_admin::DrainGoal::Finished => status.finished(),
                };
                if !done {
                    bail!(
                        "drain of {instance} not finished after {}: {}",
                        humantime::format_duration(timeout),
                        strand_admin::describe_left(&status, goal)
                    );
                }
                println!("Drained {instance}");
            }
        }
        AdminCommand::UndrainInstance { cluster, instance } => {
            admin.undrain_instance(&cluster, &instance).await?;
            println!("Undrained {instance} (instance operation ENABLE)");
        }
        AdminCommand::AddResource {
            cluster,
            resource,
            partitions,
            state_model,
            mode,
        } => {
            admin
                .add_resource(&cluster, &resource, partitions, &state_model, mode.into())
                .await?;
            println!("Added resource {resource} ({partitions} partitions, {state_model})");
        }
        AdminCommand::DropResource { cluster, resource } => {
            admin.drop_resource(&cluster, &resource).await?;
            println!("Dropped resource {resource}");
        }
        AdminCommand::Rebalance {
            cluster,
            resource,
            replicas,
        } => {
            admin.rebalance(&cluster, &resource, replicas).await?;
            println!("Rebalanced {resource} with {replicas} replicas");
        }
        AdminCommand::AddIdealState {
            cluster,
            resource,
            file,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let record = strand_model::ZNRecord::from_bytes(&bytes)
                .with_context(|| format!("{} is not an IdealState record", file.display()))?
                .with_context(|| format!("{} is empty", file.display()))?;
            admin
                .add_resource_with_ideal_state(&cluster, &resource, record)
                .await?;
            println!("Added resource {resource} to {cluster}");
        }
        AdminCommand::EnableResource { cluster, resource } => {
            admin
                .set_resource_enabled(&cluster, &resource, true)
                .await?;
            println!("Enabled {resource}");
        }
        AdminCommand::DisableResource { cluster, resource } => {
            admin
                .set_resource_enabled(&cluster, &resource, false)
                .await?;
            println!("Disabled {resource}");
        }
        AdminCommand::EnableCluster { cluster } => {
            admin.set_cluster_enabled(&cluster, true, "").await?;
            println!("Enabled {cluster}");
        }
        AdminCommand::DisableCluster { cluster, reason } => {
            admin.set_cluster_enabled(&cluster, false, &reason).await?;
            println!("Paused {cluster}");
        }
        AdminCommand::SetConfig {
            scope,
            scope_args,
            key_values,
        } => {
            let (cluster, scope) = ConfigScope::parse(&scope, &scope_args)?;
            let pairs = strand_admin::parse_key_values(&key_values)?;
            admin.set_config(&cluster, &scope, &pairs).await?;
        }
        AdminCommand::GetConfig {
            scope,
            scope_args,
            keys,
        } => {
            let kind = scope;
            let (cluster, scope) = ConfigScope::parse(&kind, &scope_args)?;
            let keys = strand_admin::parse_keys(&keys)?;
            let values = admin.get_config(&cluster, &scope, &keys).await?;
            let mut record = strand_model::ZNRecord::new(kind);
            for (key, value) in values {
                record.set_simple(key, value);
            }
            println!("{}", record.to_json_string());
        }
        AdminCommand::RemoveConfig {
            scope,
            scope_args,
            keys,
        } => {
            let (cluster, scope) = ConfigScope::parse(&scope, &scope_args)?;
            let keys = strand_admin::parse_keys(&keys)?;
            admin.remove_config(&cluster, &scope, &keys).await?;
        }
        AdminCommand::AddStateModelDef { cluster, file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = admin.add_state_model_def(&cluster, &bytes).await?;
            println!("Added state model {name}");
        }
        AdminCommand::ClusterInfo { cluster, json } => {
            let info = admin.cluster_info(&cluster).await?;
            if json {
                print_json(&info.to_json())?;
            } else {
                print!("{info}");
            }
        }
        AdminCommand::CustomizedStateConfig { cluster, action } => match action {
            CustomizedStateAction::AddType { r#type } => {
                admin.add_customized_state_type(&cluster, &r#type).await?;
                println!("Aggregating {type}", type = r#type);
            }
            CustomizedStateAction::RemoveType { r#type } => {
                admin
                    .remove_customized_state_type(&cluster, &r#type)
                    .await?;
                println!("No longer aggregating {type}", type = r#type);
            }
            CustomizedStateAction::Get { json } => {
                let types = admin.customized_state_types(&cluster).await?;
                if json {
                    print_json(&serde_json::json!({
                        "cluster": cluster,
                        "customized_state_types": types,
                    }))?;
                } else {
                    for t in types {
                        println!("{t}");
                    }
                }
            }
        },
        AdminCommand::SetAggregator {
            cluster,
            r#type,
            file,
            plugin,
            name,
        } => {
            let (plugin, version) = aggregators::set(
                &admin,
                &cluster,
                &r#type,
                file.as_deref(),
                plugin.as_deref(),
                name.as_deref(),
            )
            .await?;
            match version {
                Some(v) => {
                    println!("Deployed {plugin} {v}; {type} is aggregated by {plugin}", type = r#type)
                }
                None => println!("{type} is aggregated by {plugin}", type = r#type),
            }
            if !admin
                .customized_state_types(&cluster)
                .await?
                .contains(&r#type)
            {
                eprintln!(
                    "note: {type} is not aggregated yet; add it with `strand admin customized-state-config {cluster} add-type {type}`",
                    type = r#type
                );
            }
        }
        AdminCommand::RemoveAggregator { cluster, r#type } => {
            let plugin = admin.unbind_aggregator(&cluster, &r#type).await?;
            println!("{type} is no longer aggregated by {plugin}", type = r#type);
        }
        AdminCommand::ListAggregators { cluster, json } => {
            let bindings = admin.aggregator_bindings(&cluster).await?;
            if json {
                let aggregators: serde_json::Map<String, serde_json::Value> = bindings
                    .into_iter()
                    .map(|(t, plugin)| (t, serde_json::Value::String(plugin)))
                    .collect();
                print_json(&serde_json::json!({
                    "cluster": cluster,
                    "aggregators": aggregators,
                }))?;
            } else {
                for (customized_type, plugin) in bindings {
                    println!("{customized_type}\t{plugin}");
                }
            }
        }
        AdminCommand::ResetInstance { cluster, instance } => {
            let reset = admin.reset_instance(&cluster, &instance).await?;
            print_reset(&reset, "on", &instance);
        }
        AdminCommand::ResetResource { cluster, resource } => {
            let reset = admin.reset_resource(&cluster, &resource).await?;
            print_reset(&reset, "of", &resource);
        }
        AdminCommand::EnablePartition {
            cluster,
            instance,
            resource,
            partitions,
        } => set_partitions(&admin, &cluster, &instance, &resource, &partitions, true).await?,
        AdminCommand::DisablePartition {
            cluster,
            instance,
            resource,
            partitions,
        } => set_partitions(&admin, &cluster, &instance, &resource, &partitions, false).await?,
        AdminCommand::ResetPartition {
            cluster,
            instance,
            resource,
            partitions,
        } => {
            admin
                .reset_partitions(&cluster, &instance, &resource, &partitions)
                .await?;
            println!(
                "Reset {} partition(s) of {resource} on {instance}",
                partitions.len()
            );
        }
        AdminCommand::Dump { path, json } => {
            if json {
                let nodes: Vec<serde_json::Value> = admin
                    .dump_nodes(&path)
                    .await?
                    .iter()
                    .map(strand_admin::DumpedNode::to_json)
                    .collect();
                print_json(&serde_json::json!({ "path": path, "znodes": nodes }))?;
            } else {
                print!("{}", admin.dump(&path).await?);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What a bulk reset of `subject` (an instance or a resource) sent: the
/// partitions, per resource or per instance.
fn print_reset(reset: &[(String, Vec<String>)], relation: &str, subject: &str) {
    if reset.is_empty() {
        println!("Nothing in ERROR {relation} {subject}");
    }
    for (name, partitions) in reset {
        println!("Reset {name}: {}", partitions.join(","));
    }
}

/// `enable-partition` / `disable-partition`.
async fn set_partitions(
    admin: &Admin,
    cluster: &str,
    instance: &str,
    resource: &str,
    partitions: &[String],
    enabled: bool,
) -> Result<()> {
    admin
        .set_partitions_enabled(cluster, instance, resource, partitions, enabled)
        .await?;
    let done = if enabled { "Enabled" } else { "Disabled" };
    println!(
        "{done} {} of {resource} on {instance}",
        partitions.join(",")
    );
    Ok(())
}
