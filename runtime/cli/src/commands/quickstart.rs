//! `strand quickstart`: Strand's main job on one machine. Starts a private
//! ZooKeeper (unless `--zk` is given), creates a demo cluster with three
//! instances, a MasterSlave resource and an aggregated customized-state
//! type, and prints the cluster. Everything it started is stopped on exit.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use strand_admin::{Admin, RebalanceMode};
use strand_zk::server::LocalZk;

use super::GlobalArgs;

/// Options of `strand quickstart`.
#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// Cluster name.
    #[arg(long, default_value = "STRAND_QUICKSTART")]
    pub cluster: String,
    /// Resource name.
    #[arg(long, default_value = "MyDB")]
    pub resource: String,
    /// Partitions of the resource.
    #[arg(long, default_value_t = 6)]
    pub partitions: u32,
    /// Drop the cluster first if it exists (only matters with `--zk`).
    #[arg(long)]
    pub recreate: bool,
}

/// The demo's instances.
const INSTANCES: [&str; 3] = ["localhost_12000", "localhost_12001", "localhost_12002"];
/// The demo's customized-state type.
const CUSTOMIZED_TYPE: &str = "DEPLOY_STATE";

fn progress(what: &str) {
    eprintln!("==> {what}");
}

/// Runs the quickstart.
pub async fn run(global: &GlobalArgs, args: QuickstartArgs) -> Result<ExitCode> {
    // Kept alive until the end of this function: dropping it stops the server.
    let (_private_zk, connect) = match &global.zk {
        Some(connect) => {
            progress(&format!("using ZooKeeper at {connect}"));
            (None, connect.clone())
        }
        None => {
            progress("starting a private ZooKeeper on 127.0.0.1");
            let server = tokio::task::spawn_blocking(LocalZk::start)
                .await?
                .context("starting the private ZooKeeper")?;
            let connect = server.connect_string();
            progress(&format!("ZooKeeper is serving on {connect}"));
            (Some(server), connect)
        }
    };
    let admin = Admin::connect(&connect).await?;
    let cluster = args.cluster.as_str();
    if args.recreate && admin.is_cluster_setup(cluster).await? {
        progress(&format!("dropping the existing cluster {cluster}"));
        admin.drop_cluster(cluster).await?;
    }
    progress(&format!("creating cluster {cluster}"));
    admin.add_cluster(cluster).await?;
    for instance in INSTANCES {
        progress(&format!("adding instance {instance}"));
        admin.add_instance(cluster, instance).await?;
    }
    progress(&format!(
        "adding resource {} ({} partitions, MasterSlave, SEMI_AUTO) with 3 replicas",
        args.resource, args.partitions
    ));
    admin
        .add_resource(
            cluster,
            &args.resource,
            args.partitions,
            "MasterSlave",
            RebalanceMode::SemiAuto,
        )
        .await?;
    admin.rebalance(cluster, &args.resource, 3).await?;
    progress(&format!(
        "aggregating customized-state type {CUSTOMIZED_TYPE}"
    ));
    admin
        .add_customized_state_type(cluster, CUSTOMIZED_TYPE)
        .await?;
    println!();
    print!("{}", admin.cluster_info(cluster).await?);
    println!();
    progress("done; stopping what the quickstart started");
    Ok(ExitCode::SUCCESS)
}
