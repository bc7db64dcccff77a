//! `strand quickstart`: Strand's main job on one machine. Starts a private
//! ZooKeeper (unless `--zk` is given), creates a cluster, runs a controller
//! and three participants whose MasterSlave state model is the Rust plugin
//! from `plugins/`, waits for convergence, hot-swaps the state model to a
//! new version, fails a participant over and brings it back — printing the
//! routing table (through `strand-spectator`, the external view and the
//! customized view) at each step — and stops everything it started.
//! With `--console` it also serves the web console (and the REST API) on
//! loopback from the start, and keeps the cluster running after the demo
//! until ctrl-c, so the cluster can be watched and operated in a browser.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use strand_admin::{Admin, RebalanceMode};
use strand_controller::Controller;
use strand_devcluster::Server;
use strand_devcluster::cluster::{Cluster, Setup};
use strand_devcluster::routes::wait_routes;
use strand_model::{CurrentState, PropertyPaths};
use strand_plugin_host::{HostConfig, HostInspector, PluginOptions, default_cache_dir};
use strand_rest::RestConfig;
use strand_spectator::{RoutingSnapshot, RoutingTableProvider, ViewSource};

use super::GlobalArgs;
use crate::routing_table::{Selection, render_table};
use crate::stop_signal::StopSignal;

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
    /// Where the built plugins are (`master_slave.wasm`, `master_slave_next.wasm`).
    #[arg(
        long,
        env = "STRAND_PLUGIN_DIR",
        default_value = "plugins/target/wasm32-wasip2/release"
    )]
    pub plugin_dir: PathBuf,
    /// Drop the cluster first if it exists (only matters with `--zk`).
    #[arg(long)]
    pub recreate: bool,
    /// How long each step may take before the quickstart gives up.
    #[arg(long, default_value_t = 60)]
    pub step_timeout: u64,
    /// Serve the web console on this address (default 127.0.0.1:8100)
    /// while the demo runs, and keep the cluster running afterwards until
    /// ctrl-c.
    #[arg(
        long,
        value_name = "ADDR",
        num_args = 0..=1,
        default_missing_value = strand_rest::DEFAULT_LISTEN
    )]
    pub console: Option<SocketAddr>,
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
    let started = Instant::now();
    let v1 = plugin(&args.plugin_dir, "master_slave")?;
    let v2 = plugin(&args.plugin_dir, "master_slave_next")?;
    // Kept alive until the end of this function: dropping it stops a
    // private server.
    match &global.zk {
        Some(connect) => progress(&format!("using ZooKeeper at {connect}")),
        None => progress("starting a private ZooKeeper on 127.0.0.1"),
    }
    let server = Server::given_or_private(global.zk.as_deref())
        .await
        .context("starting the private ZooKeeper")?;
    let connect = server.connect_string();
    if server.is_private() {
        progress(&format!("ZooKeeper is serving on {connect}"));
    }
    let zk = global.zk_config_for(&connect)?;
    if args.recreate {
        progress(&format!(
            "dropping cluster {} first if it exists",
            args.cluster
        ));
    }
    progress(&format!(
        "creating cluster {} with {} instances",
        args.cluster,
        INSTANCES.len()
    ));
    progress("loading the MasterSlave plugin (Rust, plugins/master-slave)");
    progress(&format!(
        "starting a spectator: the routing table (external view + {CUSTOMIZED_TYPE} customized view)"
    ));
    let setup = Setup {
        name: args.cluster.clone(),
        recreate: args.recreate,
        instances: INSTANCES.map(str::to_owned).to_vec(),
        models: vec![("MasterSlave".to_owned(), v1)],
        cache_dir: default_cache_dir(),
        customized_views: vec![CUSTOMIZED_TYPE.to_owned()],
    };
    let dev = Cluster::start(server, zk.clone(), setup).await?;
    let console = match args.console {
        Some(listen) => Some(Console::start(&zk, listen, &args.cluster).await?),
        None => None,
    };
    let demo = Demo::set_up(&dev, &args).await?;
    let timeout = Duration::from_secs(args.step_timeout);
    let (routes, registry) = (&dev.routes, &dev.registry);
    progress("starting the controller");
    let controller = Controller::start(zk.clone(), &args.cluster, "quickstart-controller")
        .await
        .context("starting the controller")?;
    let mut participants = BTreeMap::new();
    for instance in INSTANCES {
        progress(&format!("starting participant {instance}"));
        participants.insert(instance, dev.start_participant(instance).await?);
    }

    progress("waiting for convergence: 1 MASTER and 2 SLAVEs per partition");
    let took = demo
        .wait_for(routes, timeout, |snap| demo.converged(snap, 3))
        .await?;
    controller.wait_converged(timeout).await?;
    println!("\nConverged in {took:.2?}.");
    demo.print_routes(routes, timeout).await?;

    progress("hot-swapping MasterSlave to the next plugin version (no restart)");
    let report = registry
        .install_file("MasterSlave", &v2, PluginOptions::default())
        .context("swapping in the next MasterSlave version")?;
    println!(
        "MasterSlave {} -> {} ({:?} to prepare, {:?} to swap)",
        report.previous.as_ref().map_or("-", |v| v.version.as_str()),
        report.current.version,
        report.prepare_time,
        report.swap_time
    );

    let failed = INSTANCES[0];
    progress(&format!(
        "stopping participant {failed}: its masters must move"
    ));
    if let Some(p) = participants.remove(failed) {
        p.shutdown().await;
    }
    // The spectator drops the stopped instance as soon as its LiveInstance
    // is gone; the masters move when the controller has acted.
    let took = demo
        .wait_for(routes, timeout, |snap| demo.masters_without(snap, failed))
        .await?;
    println!("\nFailed over in {took:.2?}:");
    demo.print_routes(routes, timeout).await?;
    demo.print_versions().await?;

    progress(&format!(
        "restarting participant {failed}: masters are handed back"
    ));
    participants.insert(failed, dev.start_participant(failed).await?);
    let took = demo
        .wait_for(routes, timeout, |snap| demo.converged(snap, 3))
        .await?;
    controller.wait_converged(timeout).await?;
    println!("\nRejoined and converged in {took:.2?}:");
    demo.print_routes(routes, timeout).await?;

    if let Some(console) = &console {
        progress(&format!(
            "the cluster keeps running; watch and operate it at {} (ctrl-c to stop)",
            console.url
        ));
        let mut stop = StopSignal::install()?;
        stop.wait().await;
    }
    progress("stopping what the quickstart started");
    drop(console);
    for (_, p) in participants {
        p.shutdown().await;
    }
    controller.shutdown().await?;
    drop(dev);
    println!("\nQuickstart done in {:.1?}.", started.elapsed());
    Ok(ExitCode::SUCCESS)
}

/// The web console and REST API of `--console`, served until dropped.
struct Console {
    url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Console {
    async fn start(zk: &strand_zk::ZkConfig, listen: SocketAddr, cluster: &str) -> Result<Self> {
        let admin = Admin::connect_with(zk.clone())
            .await
            .context("connecting the console to ZooKeeper")?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("--console: listening on {listen}"))?;
        let address = listener.local_addr()?;
        let config = RestConfig {
            listen: Some(address),
            plugin_inspector: Some(Arc::new(HostInspector::lazy(HostConfig::default()))),
            ..RestConfig::default()
        };
        let router = strand_rest::router(admin, &config);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let served = strand_rest::serve(listener, router, async move {
                let _ = stopped.await;
            })
            .await;
            if let Err(err) = served {
                tracing::error!(error = %err, "the console stopped serving");
            }
        });
        let url = format!("http://{address}/#/cluster/{cluster}");
        progress(&format!("serving the web console at {url}"));
        open_in_browser(&url);
        Ok(Self { url, _stop: stop })
    }
}

/// Opens `url` in the desktop's browser when there is a desktop (a
/// graphical session and `xdg-open`); on a server the printed URL is all.
fn open_in_browser(url: &str) {
    let graphical = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
    if !graphical {
        return;
    }
    let opened = std::process::Command::new("xdg-open")
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(err) = opened {
        tracing::debug!(error = %err, "xdg-open did not start; open the URL by hand");
    }
}

fn plugin(dir: &Path, name: &str) -> Result<PathBuf> {
    let path = dir.join(format!("{name}.wasm"));
    if !path.is_file() {
        bail!(
            "plugin {} not found; build the plugins first (`cargo xtask quickstart` does) or pass --plugin-dir",
            path.display()
        );
    }
    Ok(path)
}

/// The demo cluster and how to look at it.
struct Demo {
    admin: Admin,
    cluster: String,
    resource: String,
    partitions: u32,
    /// The head of each partition's preference list, by partition number.
    preferred_masters: Vec<String>,
}

impl Demo {
    async fn set_up(dev: &Cluster, args: &QuickstartArgs) -> Result<Self> {
        let admin = Admin::connect_with(dev.zk()).await?;
        let cluster = args.cluster.as_str();
        progress(&format!(
            "adding resource {} ({} partitions, MasterSlave, SEMI_AUTO, 3 replicas)",
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
        // The Rust MasterSlave plugin records each replica's state under the
        // customized-state type named in the resource's config.
        admin
            .accessor()
            .update(
                &PropertyPaths::new(cluster).ideal_state(&args.resource),
                false,
                |current| {
                    let Some(mut record) = current else {
                        return strand_zk::Update::Keep;
                    };
                    record.set_simple("strand.customized-state-type", CUSTOMIZED_TYPE);
                    strand_zk::Update::Write(record)
                },
            )
            .await?;
        progress(&format!(
            "aggregating customized-state type {CUSTOMIZED_TYPE}"
        ));
        admin
            .add_customized_state_type(cluster, CUSTOMIZED_TYPE)
            .await?;
        let ideal = admin.ideal_state(cluster, &args.resource).await?;
        let preferred_masters = (0..args.partitions)
            .map(|p| {
                let partition = format!("{}_{p}", args.resource);
                ideal
                    .preference_list(&partition)
                    .and_then(|list| list.first().cloned())
                    .with_context(|| format!("{partition} has no preference list"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            admin,
            cluster: cluster.to_owned(),
            resource: args.resource.clone(),
            partitions: args.partitions,
            preferred_masters,
        })
    }

    fn paths(&self) -> PropertyPaths {
        PropertyPaths::new(&self.cluster)
    }

    fn partition(&self, p: u32) -> String {
        format!("{}_{p}", self.resource)
    }

    /// Waits on the routing table until `done` holds; returns how long it took.
    async fn wait_for(
        &self,
        routes: &RoutingTableProvider,
        timeout: Duration,
        done: impl Fn(&RoutingSnapshot) -> bool,
    ) -> Result<Duration> {
        wait_routes(routes, "the expected state of the cluster", timeout, done).await
    }

    /// Every partition routes to its preferred MASTER (the head of its
    /// preference list) and `replicas - 1` SLAVEs.
    fn converged(&self, snap: &RoutingSnapshot, replicas: usize) -> bool {
        (0..self.partitions).all(|p| {
            let partition = self.partition(p);
            let masters = snap.instances(&self.resource, &partition, "MASTER");
            masters.len() == 1
                && self.preferred_masters.get(p as usize) == Some(&masters[0])
                && snap.instances(&self.resource, &partition, "SLAVE").len() == replicas - 1
        })
    }

    /// `gone` is routed to for nothing and every partition has a MASTER.
    fn masters_without(&self, snap: &RoutingSnapshot, gone: &str) -> bool {
        !snap.is_live(gone)
            && (0..self.partitions).all(|p| {
                let partition = self.partition(p);
                let masters = snap.instances(&self.resource, &partition, "MASTER");
                masters.len() == 1 && masters[0] != gone
            })
    }

    /// The routing table from the external view, then from the customized
    /// view (waiting, within `timeout`, until it covers every partition:
    /// the controller aggregates it after the transitions).
    async fn print_routes(&self, routes: &RoutingTableProvider, timeout: Duration) -> Result<()> {
        let external = Selection::new(ViewSource::ExternalView, Some(self.resource.clone()), None);
        println!(
            "{}",
            render_table(&self.cluster, &routes.snapshot(), &external)?
        );
        let live = routes.snapshot().live_instances().len();
        let customized = ViewSource::customized(CUSTOMIZED_TYPE)?;
        let complete = |snap: &RoutingSnapshot| {
            snap.table(&customized).is_ok_and(|t| {
                (0..self.partitions).all(|p| {
                    t.state_map(&self.resource, &self.partition(p))
                        .is_some_and(|m| m.len() == live)
                })
            })
        };
        let snap = match routes.wait_for(timeout, complete).await {
            Some(snap) => snap,
            None => {
                println!("(the customized view {CUSTOMIZED_TYPE} is not complete yet)");
                routes.snapshot()
            }
        };
        let selection = Selection::new(customized, Some(self.resource.clone()), None);
        println!("{}", render_table(&self.cluster, &snap, &selection)?);
        Ok(())
    }

    /// Which plugin version ran each replica's last transition (the
    /// plugin's note in the current state's INFO).
    async fn print_versions(&self) -> Result<()> {
        println!("\nLast transition of each replica, as its plugin reported it:");
        for instance in INSTANCES {
            let live = self
                .admin
                .zk()
                .exists(&self.paths().live_instance(instance))
                .await?;
            let Some(stat) = live else { continue };
            let session = strand_model::SessionId::from_i64(stat.ephemeral_owner);
            let path = self
                .paths()
                .current_state(instance, session, &self.resource);
            let Some(state) = self.admin.accessor().get(&path).await? else {
                continue;
            };
            let state = CurrentState::from(state.value);
            for p in 0..self.partitions {
                let partition = format!("{}_{p}", self.resource);
                if let Some(info) = state.info(&partition).filter(|i| !i.is_empty()) {
                    println!("  {instance:<16} {partition:<10} {info}");
                }
            }
        }
        Ok(())
    }
}
