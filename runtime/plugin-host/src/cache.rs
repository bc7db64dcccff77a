//! The on-disk cache of compiled components, so a restart does not
//! recompile: `<dir>/<sha256 of the .wasm>-<engine compatibility hash>.cwasm`.
//!
//! The engine's `precompile_compatibility_hash` covers the wasmtime version
//! and every `Config` setting that affects code generation, so artefacts of
//! another build or configuration are never looked up.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::LoadError;

/// A directory of compiled artefacts for one engine configuration.
#[derive(Debug)]
pub(crate) struct ArtifactCache {
    dir: PathBuf,
    engine_hash: String,
}

/// The sha256 of a component's bytes, in hex.
pub(crate) fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Feeds `Hash` output into sha256, so the engine hash is stable across
/// processes (std's `DefaultHasher` makes no such promise).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        0
    }
}

impl ArtifactCache {
    /// Opens (creating it, private to the user) the cache directory.
    pub(crate) fn open(dir: &Path, engine: &Engine) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let mut h = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut h);
        let engine_hash = hex::encode(&h.0.finalize()[..8]);
        Ok(Self {
            dir: dir.to_owned(),
            engine_hash,
        })
    }

    fn path_for(&self, digest: &str) -> PathBuf {
        self.dir
            .join(format!("{digest}-{}.cwasm", self.engine_hash))
    }

    /// The cached compiled component for `digest`, if there is a usable one
    /// (an unusable one is deleted, so it gets rewritten).
    pub(crate) fn load(&self, engine: &Engine, digest: &str) -> Option<Component> {
        let path = self.path_for(digest);
        if !path.exists() {
            return None;
        }
        match load_artefact(engine, &path) {
            Ok(c) => {
                tracing::debug!(path = %path.display(), "loaded cached compiled component");
                Some(c)
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding unusable cached artefact");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Compiles `bytes` (whose sha256 is `digest`), stores the artefact and
    /// loads it from there.
    pub(crate) fn compile_and_store(
        &self,
        engine: &Engine,
        bytes: &[u8],
        digest: &str,
    ) -> Result<Component, LoadError> {
        let path = self.path_for(digest);
        let compiled = engine
            .precompile_component(bytes)
            .map_err(|e| LoadError::Compile(format!("{e:#}")))?;
        // Unique per writer: hosts in one process may share the directory.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let n = WRITES.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .dir
            .join(format!(".{digest}.{}.{n}.tmp", std::process::id()));
        std::fs::write(&tmp, &compiled)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                LoadError::Cache(format!("cannot write {}: {e}", path.display()))
            })?;
        tracing::debug!(path = %path.display(), bytes = compiled.len(), "compiled and cached component");
        load_artefact(engine, &path).map_err(|e| LoadError::Cache(format!("{e:#}")))
    }
}

/// Loads (mmaps) a compiled artefact this cache wrote.
#[allow(unsafe_code)]
fn load_artefact(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: `deserialize_file` trusts the file to be wasmtime's own output.
    // Only files this cache wrote with `Engine::precompile_component` are
    // ever passed here: the name carries the sha256 of the source and the
    // engine's compatibility hash, the directory is created 0700, and files
    // land in it by atomic rename. wasmtime itself checks the header and
    // version and returns `Err` (not UB) for artefacts of another build.
    // Anyone who can write this directory can run native code in the host;
    // it must be as private as the binary.
    unsafe { Component::deserialize_file(engine, path) }
}
