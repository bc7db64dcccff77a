//! `code-runner`: set up a cluster for the remote code runner, serve as a
//! runner, or send a WebAssembly program to runners and print their output.
//!
//! ```sh
//! code-runner --cluster RUNNERS setup
//! strand --zk … controller --cluster RUNNERS &
//! code-runner --cluster RUNNERS serve --instance localhost_13000 --instance localhost_13001
//! code-runner --cluster RUNNERS run --target all plugins/target/wasm32-wasip2/release/hello.wasm -- a b
//! ```

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use strand_admin::Admin;
use strand_code_runner::client::{Client, Submission, Target};
use strand_code_runner::runner::{Runner, RunnerConfig};
use strand_code_runner::setup::ensure_cluster;
use strand_plugin_host::CommandLimits;
use strand_zk::{DigestCredentials, ZkConfig};

/// A remote code runner on Strand: participants run WebAssembly programs a client sends them.
#[derive(Debug, Parser)]
#[command(name = "code-runner", version)]
struct Cli {
    /// ZooKeeper connect string.
    #[arg(
        long,
        global = true,
        env = "STRAND_ZK",
        default_value = "127.0.0.1:2181"
    )]
    zk: String,
    /// A file holding ZooKeeper digest credentials (`user:password`).
    #[arg(long, global = true, env = "STRAND_ZK_AUTH_FILE", value_name = "FILE")]
    zk_auth_file: Option<PathBuf>,
    /// The cluster.
    #[arg(long, global = true, default_value = "CODE_RUNNER_DEMO")]
    cluster: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the cluster (if missing) and the CODE_RUNNER resource.
    Setup,
    /// Serve as one or more runners until SIGTERM or ctrl-c.
    Serve {
        /// Instance name (`host_port`); repeat for several runners in one process.
        #[arg(long, required = true)]
        instance: Vec<String>,
        /// Where `online_offline.wasm` is.
        #[arg(long, default_value = "plugins/target/wasm32-wasip2/release")]
        plugin_dir: PathBuf,
        /// The longest a program may run, in seconds.
        #[arg(long, default_value_t = 10)]
        max_deadline: u64,
        /// The memory cap of a program, in MiB.
        #[arg(long, default_value_t = 64)]
        memory_mib: usize,
    },
    /// Send a program to runners and print each one's output.
    Run {
        /// `all`, `random`, or an instance name.
        #[arg(long, default_value = "all")]
        target: String,
        /// Stdin for the program: a file, or `-` for this process's stdin.
        #[arg(long)]
        stdin: Option<PathBuf>,
        /// How long the program may run, in seconds.
        #[arg(long, default_value_t = 10)]
        deadline: u64,
        /// The program: a WASI command component (.wasm).
        program: PathBuf,
        /// Its arguments.
        #[arg(last = true)]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,zookeeper_client=error")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let mut zk = ZkConfig::new(cli.zk.clone());
    if let Some(path) = &cli.zk_auth_file {
        zk = zk.with_credentials(DigestCredentials::from_file(path)?);
    }
    match cli.command {
        Command::Setup => {
            let admin = Admin::connect_with(zk.clone()).await?;
            ensure_cluster(&admin, &cli.cluster).await?;
            println!("cluster {} is ready for code runners", cli.cluster);
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve {
            instance,
            plugin_dir,
            max_deadline,
            memory_mib,
        } => {
            let plugin = plugin_dir.join("online_offline.wasm");
            if !plugin.is_file() {
                anyhow::bail!(
                    "{} not found; build plugins/ (`cargo xtask quickstart` does) or pass --plugin-dir",
                    plugin.display()
                );
            }
            let mut runners = Vec::new();
            for name in instance {
                let mut config = RunnerConfig::new(zk.clone(), &cli.cluster, &name, plugin.clone());
                config.limits = CommandLimits {
                    deadline: Duration::from_secs(max_deadline),
                    memory_bytes: memory_mib << 20,
                    ..CommandLimits::default()
                };
                config.cache_dir = Some(std::env::temp_dir().join("strand-plugin-cache"));
                runners.push(Runner::start(config).await?);
                eprintln!("runner {name} is serving in {}", cli.cluster);
            }
            wait_for_signal().await?;
            for runner in runners {
                runner.shutdown().await;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            target,
            stdin,
            deadline,
            program,
            args,
        } => {
            let bytes = std::fs::read(&program)
                .with_context(|| format!("reading {}", program.display()))?;
            let input = match stdin {
                None => Vec::new(),
                Some(path) if path.as_os_str() == "-" => {
                    let mut buf = Vec::new();
                    std::io::stdin().read_to_end(&mut buf)?;
                    buf
                }
                Some(path) => {
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?
                }
            };
            let client = Client::connect(zk, &cli.cluster).await?;
            let target: Target = target.parse()?;
            let replies = client
                .run(&Submission {
                    program: &bytes,
                    args,
                    stdin: &input,
                    deadline: Duration::from_secs(deadline),
                    target,
                })
                .await?;
            let mut all_ok = true;
            for reply in &replies {
                all_ok &= reply.success();
                match &reply.outcome {
                    Ok((_, status)) => {
                        println!("== {}: {status} ({} ms)", reply.instance, reply.elapsed_ms)
                    }
                    Err(reason) => println!("== {}: not run: {reason}", reply.instance),
                }
                print!("{}", reply.stdout);
                for line in reply.stderr.lines() {
                    println!("[stderr] {line}");
                }
            }
            Ok(if all_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

async fn wait_for_signal() -> Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = term.recv() => {}
    }
    Ok(())
}
