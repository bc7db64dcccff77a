//! `strand rest`: serve the Helix-compatible HTTP admin API
//! (`/admin/v2/…`, see `runtime/rest`) until SIGTERM or ctrl-c.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use strand_admin::Admin;
use strand_rest::{BearerToken, RestConfig};

use super::GlobalArgs;
use super::participant::StopSignal;

/// Options of `strand rest`.
#[derive(Debug, Args)]
pub struct RestArgs {
    /// Address to listen on. Loopback by default; anything else exposes the
    /// API to the network (use --token-file then).
    #[arg(long, default_value = strand_rest::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// A file holding the bearer token that every mutating request (PUT,
    /// POST, DELETE) must present as `Authorization: Bearer <token>`.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = strand_rest::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Largest plugin component accepted by the upload route, in bytes
    /// (the deployment cap; also that route's body limit).
    #[arg(long, default_value_t = strand_plugin_store::DEFAULT_MAX_SIZE)]
    pub max_plugin_bytes: usize,
}

/// Serves the API until a signal arrives.
pub async fn run(global: &GlobalArgs, args: RestArgs) -> Result<ExitCode> {
    let token = match &args.token_file {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the token file {}", path.display()))?;
            match BearerToken::new(&text) {
                Some(token) => Some(token),
                None => bail!("the token file {} is empty", path.display()),
            }
        }
    };
    if token.is_none() && !args.listen.ip().is_loopback() {
        tracing::warn!(listen = %args.listen, "serving mutating routes to the network without a token");
    }
    let mut stop = StopSignal::install()?;
    let admin = Admin::connect(global.zk())
        .await
        .with_context(|| format!("connecting to ZooKeeper at {}", global.zk()))?;
    let config = RestConfig {
        token,
        max_body_bytes: args.max_body_bytes,
        max_plugin_bytes: args.max_plugin_bytes,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    eprintln!(
        "serving http://{address}{} (ZooKeeper {}, auth {}; ctrl-c or SIGTERM to stop)",
        strand_rest::PREFIX,
        global.zk(),
        if config.token.is_some() { "on" } else { "off" },
    );
    let router = strand_rest::router(admin, &config);
    strand_rest::serve(listener, router, async move { stop.wait().await })
        .await
        .context("serving HTTP")?;
    Ok(ExitCode::SUCCESS)
}
