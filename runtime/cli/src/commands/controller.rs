//! `strand controller`: run a controller for one cluster until SIGTERM or
//! ctrl-c, then stop gracefully (a leader deletes LEADER so a standby
//! takes over at once).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use strand_controller::{Controller, ControllerConfig};
use tracing::info;

use super::GlobalArgs;
use crate::stop_signal::StopSignal;

/// Options of `strand controller`.
#[derive(Debug, Args)]
pub struct ControllerArgs {
    /// The cluster to manage.
    #[arg(long)]
    pub cluster: String,
    /// The controller's name (LEADER's id and the messages' SRC_NAME)
    /// [default: <hostname>_<pid>].
    #[arg(long)]
    pub name: Option<String>,
    /// ZooKeeper session timeout, in seconds (leader failover takes about
    /// this long when a controller dies without stopping).
    #[arg(long, default_value_t = 10)]
    pub session_timeout: u64,
    /// Where compiled aggregator plugins are cached (default: the system
    /// temp dir).
    #[arg(long)]
    pub cache_dir: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub metrics: crate::metrics_server::MetricsArgs,
}

/// Runs the controller until a signal arrives.
pub async fn run(global: &GlobalArgs, args: ControllerArgs) -> Result<ExitCode> {
    let mut stop = StopSignal::install()?;
    args.metrics.start().await?;
    let name = args.name.clone().unwrap_or_else(default_name);
    let zk = global
        .zk_config()?
        .with_session_timeout(Duration::from_secs(args.session_timeout));
    let mut config = ControllerConfig::new(zk, &args.cluster, &name);
    config.plugin_cache_dir = Some(
        args.cache_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("strand-plugin-cache")),
    );
    let controller = Controller::start_with(config)
        .await
        .with_context(|| format!("starting controller {name} for cluster {}", args.cluster))?;
    eprintln!(
        "controller {name} running for cluster {} (ctrl-c or SIGTERM to stop)",
        args.cluster
    );
    stop.wait().await;
    info!(controller = %name, "stopping");
    eprintln!("stopping controller {name}");
    controller.shutdown().await?;
    Ok(ExitCode::SUCCESS)
}

/// `<hostname>_<pid>`: unique per process on a host.
fn default_name() -> String {
    format!(
        "{}_{}",
        strand_model::host::local_hostname(),
        std::process::id()
    )
}
