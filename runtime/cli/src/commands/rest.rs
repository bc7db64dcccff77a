//! `strand rest`: serve the Helix-compatible HTTP admin API
//! (`/admin/v2/…`, see `runtime/rest`) until SIGTERM or ctrl-c. Without
//! `--token-file` it serves only requests addressed to its listen address
//! and refuses mutating requests a web page could send; `--allow-origin`
//! and `--allow-host` open it deliberately.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use strand_admin::Admin;
use strand_plugin_host::{HostConfig, HostInspector};
use strand_rest::{AllowedHost, AllowedOrigins, BearerToken, RestConfig};

use super::GlobalArgs;
use crate::stop_signal::StopSignal;

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
    /// A web origin (`http://host:port`) whose pages may use the API from a
    /// browser: CORS answers for it, and (without a token) its requests
    /// are let in. Repeatable; `*` allows every origin and Host.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// Another name (`host[:port]`) requests may address the API by without
    /// a token, besides the listen address (and localhost forms of it).
    #[arg(long = "allow-host", value_name = "HOST", value_parser = parse_host)]
    pub allow_hosts: Vec<AllowedHost>,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = strand_rest::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Largest plugin component accepted by the upload route, in bytes
    /// (the deployment cap; also that route's body limit).
    #[arg(long, default_value_t = strand_plugin_store::DEFAULT_MAX_SIZE)]
    pub max_plugin_bytes: usize,
    #[command(flatten)]
    pub metrics: crate::metrics_server::MetricsArgs,
}

fn parse_host(value: &str) -> Result<AllowedHost, String> {
    AllowedHost::parse(value)
}

/// Serves the API until a signal arrives.
pub async fn run(global: &GlobalArgs, args: RestArgs) -> Result<ExitCode> {
    let allowed_origins = AllowedOrigins::parse(&args.allow_origins)
        .map_err(|e| anyhow::anyhow!("--allow-origin: {e}"))?;
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
    args.metrics.start().await?;
    let admin = Admin::connect_with(global.zk_config()?)
        .await
        .with_context(|| format!("connecting to ZooKeeper at {}", global.zk()))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    let config = RestConfig {
        token,
        listen: Some(address),
        allowed_hosts: args.allow_hosts.clone(),
        allowed_origins,
        max_body_bytes: args.max_body_bytes,
        max_plugin_bytes: args.max_plugin_bytes,
        // Uploads are validated as `strand plugin deploy` validates them;
        // the host (a wasmtime engine) is made for the first upload.
        plugin_inspector: Some(Arc::new(HostInspector::lazy(HostConfig::default()))),
    };
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
