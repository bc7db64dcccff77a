//! `strand participant`: run one or more participants (each its own
//! ZooKeeper session) whose state models are plugins, until SIGTERM or
//! ctrl-c; then drain (hand top states over, `--drain-timeout`) and stop
//! gracefully. Plugins come from local files
//! (`--plugin`, `--plugin-dir`) and/or from the cluster
//! (`--plugins-from-cluster`, the default when no local plugin is given).
//! Its membership can follow the application: `--health-url` /
//! `--health-tcp` (leave while unhealthy, rejoin when healthy) and
//! `-- COMMAND` (the application as a child; leave when it exits, stop it
//! after the drain).

mod app;
mod grants;
mod health;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use strand_participant::{
    ClusterPlugins, ClusterPluginsConfig, DrainOutcome, Participant, ParticipantConfig,
};
use strand_plugin_host::net::GrantTable;
use strand_plugin_host::{Grants, PluginOptions, PluginRegistry};
use tracing::{info, warn};

use super::GlobalArgs;
use crate::compile_progress::Progress;
use crate::stop_signal::StopSignal;
use app::App;
use health::HealthChecks;

/// Options of `strand participant`.
#[derive(Debug, Args)]
pub struct ParticipantArgs {
    /// The cluster to join.
    #[arg(long)]
    pub cluster: String,
    /// Instance name, in the forms `strand admin add-instance` takes
    /// (`host:port` and `host_port` both mean `host_port`; `P0` is `P0`);
    /// repeat to run several participants in this process.
    #[arg(long = "instance", required = true)]
    pub instances: Vec<String>,
    /// A state model plugin: `STATE_MODEL=FILE.wasm` (repeatable).
    #[arg(long = "plugin", value_parser = parse_plugin)]
    pub plugins: Vec<(String, PathBuf)>,
    /// A directory of `<STATE_MODEL>.wasm` files, watched: replacing a file
    /// hot-swaps that model.
    #[arg(long)]
    pub plugin_dir: Option<PathBuf>,
    /// Take the state models deployed to the cluster (`strand plugin
    /// deploy`) and follow new deployments; the default without `--plugin`
    /// and `--plugin-dir`.
    #[arg(long)]
    pub plugins_from_cluster: bool,
    /// Add the instance to the cluster if it is not there.
    #[arg(long)]
    pub auto_join: bool,
    /// ZooKeeper session timeout, in seconds.
    #[arg(long, default_value_t = 10)]
    pub session_timeout: u64,
    /// Transitions of different partitions that may run at once, per
    /// participant (N); one resource holds at most N - max(1, N/4) of them,
    /// failovers may use max(1, N/4) more, calls running over 5 s step aside.
    #[arg(long, default_value_t = strand_participant::DEFAULT_MAX_PARALLEL_TRANSITIONS)]
    pub max_parallel: usize,
    /// Where compiled plugins are cached (default: `strand-plugin-cache` in
    /// the system temp dir, shared with `strand plugin check` and `deploy`).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// On SIGTERM or ctrl-c, first drain: hand every top state over to
    /// other replicas (instance operation EVACUATE) for at most this long
    /// (e.g. `5s`; `0s` skips the drain); a second signal skips the rest.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub drain_timeout: Duration,
    /// Let a plugin reach something: `PLUGIN=RULE` (repeatable), RULE one
    /// of `http://HOST:PORT[/path-prefix]`, `tcp:HOST:PORT`,
    /// `tcp:HOST:LO-HI`, `dns`; `{host}` and `{port}` are the instance's
    /// HELIX_HOST and HELIX_PORT. Nothing is reachable without a grant.
    #[arg(long = "grant", value_name = "PLUGIN=RULE")]
    pub grants: Vec<String>,
    /// A TOML file of grants: `[plugins.NAME]` tables with
    /// `allow = ["RULE", …]`; adds to `--grant`.
    #[arg(long = "grants", value_name = "FILE")]
    pub grants_file: Option<PathBuf>,
    /// Follow the application's health: `GET` this URL every
    /// `--health-interval`; 2xx is healthy. After `--health-failures`
    /// failures in a row the participant leaves the cluster, and joins
    /// again once a probe passes. It first joins once healthy.
    #[arg(long, value_name = "URL")]
    pub health_url: Option<String>,
    /// Like `--health-url`, a TCP connect to `HOST:PORT` (both must pass
    /// when both are given).
    #[arg(long, value_name = "HOST:PORT")]
    pub health_tcp: Option<String>,
    /// Time between health probes (each probe's timeout too, at most 5 s).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub health_interval: Duration,
    /// Failed probes in a row that make the application unhealthy.
    #[arg(long, default_value_t = 3)]
    pub health_failures: u32,
    /// How long the application (`-- COMMAND`) gets to exit after SIGTERM
    /// before SIGKILL, when the participant stops.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub app_stop_grace: Duration,
    #[command(flatten)]
    pub metrics: crate::metrics_server::MetricsArgs,
    /// The application to run as a child (`-- COMMAND ARGS…`, in its own
    /// process group): the participant leaves the cluster the moment it
    /// exits, and stops it (SIGTERM, then SIGKILL after
    /// `--app-stop-grace`) after draining on SIGTERM.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// The options a locally loaded plugin (`--plugin`, `--plugin-dir`) runs
/// with: every rule granted to its name.
fn local_options(grants: &GrantTable, name: &str) -> PluginOptions {
    PluginOptions {
        grants: Grants {
            network: grants.rules(name).to_vec(),
            ..Grants::default()
        },
        ..PluginOptions::default()
    }
}

fn parse_plugin(value: &str) -> Result<(String, PathBuf), String> {
    match value.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_owned(), PathBuf::from(path)))
        }
        _ => Err(format!("expected STATE_MODEL=FILE.wasm, got {value:?}")),
    }
}

/// The instance ids of `--instance`, as `add-instance` would name them;
/// a name no instance can have, or one given twice, is refused before
/// anything starts.
fn instance_ids(specs: &[String]) -> Result<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut ids = Vec::with_capacity(specs.len());
    for spec in specs {
        strand_admin::names::validate("instance", spec)?;
        let id = strand_admin::instance_config_for(spec).id().to_owned();
        if !seen.insert(id.clone()) {
            bail!(
                "--instance {spec} names instance {id} a second time; each participant needs its own instance"
            );
        }
        ids.push(id);
    }
    Ok(ids)
}

/// Runs participants until a signal arrives.
pub async fn run(global: &GlobalArgs, mut args: ParticipantArgs) -> Result<ExitCode> {
    args.instances = instance_ids(&args.instances)?;
    args.metrics.start().await?;
    let grants = grants::load(args.grants_file.as_deref(), &args.grants)?;
    for (plugin, rules) in grants.iter() {
        let rules: Vec<String> = rules.iter().map(ToString::to_string).collect();
        info!(%plugin, grants = %rules.join(", "), "network granted");
    }
    let zk = global
        .zk_config()?
        .with_session_timeout(Duration::from_secs(args.session_timeout.max(1)));
    let from_cluster =
        args.plugins_from_cluster || (args.plugins.is_empty() && args.plugin_dir.is_none());
    // Listen before joining: a stop request during start-up is honoured.
    let mut stop = StopSignal::install()?;
    // The compiled cache `strand plugin check` and `deploy` use; big
    // components say "compiling X (18.0 MiB)…" while they compile.
    let host = crate::plugin_host::host(args.cache_dir.clone(), Progress::Announce)?;
    let registry = PluginRegistry::new(host);
    for (name, path) in &args.plugins {
        let report = registry
            .install_file(name, path, local_options(&grants, name))
            .with_context(|| format!("loading plugin {name} from {}", path.display()))?;
        info!(plugin = %name, version = %report.current.version, "plugin loaded");
    }
    let _watcher = match &args.plugin_dir {
        Some(dir) => Some(
            registry
                .watch_dir_with(dir, {
                    let grants = grants.clone();
                    move |name| local_options(&grants, name)
                }, |report| match report {
                    Ok(report) => info!(plugin = %report.name, version = %report.current.version, "plugin installed"),
                    Err(err) => warn!(error = %err, "plugin refused; the previous version keeps serving"),
                })
                .with_context(|| format!("watching {}", dir.display()))?,
        ),
        None => None,
    };

    let cluster_plugins = if from_cluster {
        let plugins = ClusterPlugins::start_with_grants(
            ClusterPluginsConfig {
                zk: zk.clone(),
                cluster: args.cluster.clone(),
                instances: args.instances.clone(),
            },
            Arc::clone(&registry),
            grants.clone(),
        )
        .await
        .context("following the plugins deployed to the cluster")?;
        let models: Vec<String> = registry
            .versions()
            .iter()
            .map(|v| format!("{} {}", v.name, v.version))
            .collect();
        eprintln!(
            "following the plugins deployed to {}; serving {}",
            args.cluster,
            if models.is_empty() {
                "none deployed yet".to_owned()
            } else {
                models.join(", ")
            }
        );
        Some(plugins)
    } else {
        None
    };
    // The application first (its health decides when to join), then the
    // participants, joined whenever it is healthy.
    let mut app = match args.command.as_slice() {
        [] => None,
        command => Some(App::start(command)?),
    };
    let health = HealthChecks::from_flags(
        args.health_url.clone(),
        args.health_tcp.clone(),
        args.health_interval,
        args.health_failures,
    )?
    .map(HealthChecks::spawn)
    .transpose()?;
    let (mut healthy, _probes) = match health {
        Some((verdicts, task)) => (Some(verdicts), Some(AbortOnDrop(task))),
        None => (None, None),
    };
    let mut participants = Vec::new();
    let ended = loop {
        let want_joined = healthy.as_ref().is_none_or(|h| *h.borrow() == Some(true));
        if want_joined && participants.is_empty() {
            match join(&args, &zk, &registry, cluster_plugins.as_ref()).await {
                Ok(joined) => participants = joined,
                // The first join's failure is the command's; a rejoin is
                // tried again at the next probe.
                Err(err) if healthy.is_none() => return Err(err),
                Err(err) => warn!(error = %format!("{err:#}"), "rejoining failed; trying again"),
            }
        } else if !want_joined && !participants.is_empty() {
            eprintln!(
                "the application is unhealthy: leaving the cluster until it is healthy again"
            );
            leave(std::mem::take(&mut participants)).await;
        } else if !want_joined && healthy.as_ref().is_some_and(|h| h.borrow().is_none()) {
            eprintln!("waiting for the application to be healthy before joining");
        }
        let app_exited = async {
            match app.as_mut() {
                Some(app) => app.exited().await,
                None => std::future::pending().await,
            }
        };
        let verdict = async {
            match healthy.as_mut() {
                Some(h) => h.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.wait() => break Ended::Signal,
            status = app_exited => break Ended::AppExited(status),
            alive = verdict => if !alive { break Ended::Signal },
        }
    };
    let code = match ended {
        Ended::Signal => {
            if !args.drain_timeout.is_zero() && !participants.is_empty() {
                drain(&participants, args.drain_timeout, &mut stop).await;
            }
            eprintln!("stopping: finishing transitions in flight");
            leave(participants).await;
            if let Some(app) = app.as_mut() {
                let status = app.stop(args.app_stop_grace).await;
                eprintln!("stopped the application ({status})");
            }
            ExitCode::SUCCESS
        }
        Ended::AppExited(status) => {
            eprintln!("the application exited ({status}): leaving the cluster");
            leave(participants).await;
            if status.success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    };
    if let Some(plugins) = cluster_plugins {
        plugins.shutdown().await;
    }
    Ok(code)
}

/// Why the participant stops.
enum Ended {
    /// SIGTERM or ctrl-c (or the health checks ended).
    Signal,
    /// The application (`-- COMMAND`) exited.
    AppExited(std::process::ExitStatus),
}

/// Aborts the health probes when the command returns.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts (joins) a participant for every `--instance`.
async fn join(
    args: &ParticipantArgs,
    zk: &strand_zk::ZkConfig,
    registry: &Arc<PluginRegistry>,
    cluster_plugins: Option<&ClusterPlugins>,
) -> Result<Vec<Participant>> {
    let mut participants = Vec::new();
    for instance in &args.instances {
        let mut config = ParticipantConfig::new(zk.clone(), &args.cluster, instance);
        config.plugin_updates = cluster_plugins.map(ClusterPlugins::updates);
        config.auto_join = args.auto_join;
        config.max_parallel_transitions = args.max_parallel.max(1);
        let started = Participant::start(config, Arc::clone(registry))
            .await
            .with_context(|| format!("starting participant {instance}"));
        let participant = match started {
            Ok(p) => p,
            Err(err) => {
                leave(participants).await;
                return Err(err);
            }
        };
        eprintln!(
            "participant {instance} joined {} (session {})",
            args.cluster,
            participant.session()
        );
        participants.push(participant);
    }
    Ok(participants)
}

/// Stops every participant (each removes its LiveInstance: it leaves the
/// cluster, and its partitions fail over as for a dead node).
async fn leave(participants: Vec<Participant>) {
    for participant in participants {
        let instance = participant.instance().to_owned();
        participant.shutdown().await;
        eprintln!("participant {instance} left the cluster");
    }
}

/// Drains every participant at once (each hands its top states over),
/// for at most `timeout`; a second signal skips what is left.
async fn drain(participants: &[Participant], timeout: Duration, stop: &mut StopSignal) {
    eprintln!(
        "draining: handing top states over (at most {}; signal again to skip)",
        humantime::format_duration(timeout)
    );
    let skip = tokio::sync::Notify::new();
    let drains = futures::future::join_all(
        participants
            .iter()
            .map(|p| p.drain(timeout, skip.notified())),
    );
    let mut drains = std::pin::pin!(drains);
    let outcomes = tokio::select! {
        outcomes = &mut drains => outcomes,
        () = stop.wait() => {
            skip.notify_waiters();
            drains.await
        }
    };
    for (participant, outcome) in participants.iter().zip(outcomes) {
        let instance = participant.instance();
        match outcome {
            DrainOutcome::Drained { took } => {
                eprintln!("drained {instance} in {} ms", took.as_millis());
            }
            DrainOutcome::TimedOut { left } => eprintln!(
                "drain of {instance} timed out after {}: {left}; stopping anyway",
                humantime::format_duration(timeout)
            ),
            DrainOutcome::Skipped => eprintln!("drain of {instance} skipped; stopping now"),
            DrainOutcome::Failed { reason } => {
                eprintln!("drain of {instance} failed ({reason}); stopping anyway")
            }
        }
    }
}
