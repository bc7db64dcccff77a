//! What a plugin may touch besides the Strand host interfaces: WASI
//! capabilities, all denied unless the operator grants them.
//!
//! Guests built for `wasm32-wasip2` import WASI interfaces even when they
//! never use them, so the host always links WASI; without grants the
//! context has no preopened directories, no environment and no network,
//! stdin is at end of file, and stdout and stderr go to the host's log
//! ([`crate::output`]) instead of the host's own stdio.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder};

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
    /// Let the plugin open sockets and resolve names.
    pub network: bool,
}

impl Grants {
    /// Builds the WASI context these grants allow; without the stdio
    /// grant, the guest's stdout and stderr write to `output`.
    pub(crate) fn wasi_ctx(&self, output: &OutputLog) -> Result<WasiCtx, String> {
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
        if self.network {
            b.inherit_network().allow_ip_name_lookup(true);
        }
        Ok(b.build())
    }
}
