//! What a plugin may touch besides the Strand host interfaces: WASI
//! capabilities, all denied unless the operator grants them.
//!
//! Guests built for `wasm32-wasip2` import WASI interfaces even when they
//! never use them, so the host always links WASI; without grants the
//! context has no preopened directories, no environment, no stdio (reads
//! see end of file, writes are discarded) and no network.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder};

/// WASI capabilities granted to a plugin. The default grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// Let the plugin write to the host's stdout and stderr.
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
    /// Builds the WASI context these grants allow.
    pub(crate) fn wasi_ctx(&self) -> Result<WasiCtx, String> {
        let mut b = WasiCtxBuilder::new();
        if self.stdio {
            b.inherit_stdout().inherit_stderr();
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
