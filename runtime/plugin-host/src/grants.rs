//! What a plugin may touch besides the Strand host interfaces: WASI
//! capabilities, all denied unless the operator grants them.
//!
//! Guests built for `wasm32-wasip2` import WASI interfaces even when they
//! never use them, so the host always links WASI; without grants the
//! context has no preopened directories, no environment and no network,
//! stdin is at end of file, and stdout and stderr go to the host's log
//! ([`crate::output`]) instead of the host's own stdio. Network grants are
//! rules ([`NetRule`]); what they allow is decided per call
//! ([`crate::net`]).

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder};

use crate::net::{NetRule, SharedPolicy, socket_allowed};
use crate::output::OutputLog;

/// WASI capabilities granted to a plugin. The default grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// Let the plugin write to the host's stdout and stderr (without it,
    /// its output goes to the host's log, capped per call).
    pub stdio: bool,
    /// Environment variables visible to the plugin.
    pub env: Vec<(String, String)>,
    /// Host directories mapped into the plugin, read-only:
    /// `(host path, guest path)`.
    pub read_only_dirs: Vec<(PathBuf, String)>,
    /// What the plugin may reach over the network (`wasi:http` requests,
    /// `wasi:sockets` TCP connections, name lookups with `dns`); nothing
    /// when empty. Rules may name `{host}` and `{port}`, filled in for each
    /// call from [`CallOptions::instance`](crate::CallOptions::instance).
    #[serde(default)]
    pub network: Vec<NetRule>,
}

impl Grants {
    /// Builds the WASI context these grants allow; without the stdio
    /// grant, the guest's stdout and stderr write to `output`.
    pub(crate) fn wasi_ctx(
        &self,
        output: &OutputLog,
        plugin: &Arc<str>,
        policy: &SharedPolicy,
    ) -> Result<WasiCtx, String> {
        let mut b = WasiCtxBuilder::new();
        if self.stdio {
            b.inherit_stdout().inherit_stderr();
        } else {
            b.stdout(output.stdout()).stderr(output.stderr());
        }
        b.envs(&self.env);
        for (host, guest) in &self.read_only_dirs {
            b.preopened_dir(host, guest, wasmtime_wasi::FsPerms::ReadOnly)
                .map_err(|e| format!("cannot preopen {}: {e}", host.display()))?;
        }
        // Every address goes through the call's policy, which is empty
        // unless granted; UDP is never granted.
        let (plugin, policy) = (plugin.clone(), policy.clone());
        b.allow_tcp(true)
            .allow_udp(false)
            .allow_ip_name_lookup(self.network.contains(&NetRule::Dns))
            .socket_addr_check(move |addr, usage| {
                let allowed = socket_allowed(&plugin, &policy, addr, usage);
                Box::pin(async move { allowed })
            });
        Ok(b.build())
    }
}
