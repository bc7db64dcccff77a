//! Inspecting and checking a component file without installing it: which
//! world it targets, its interface versions, and its self-description
//! (`strand plugin inspect` / `strand plugin check`).

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::definition::{AggregatorInfo, StateModelDefinition};
use crate::engine::PluginHost;
use crate::error::LoadError;
use crate::kind::{AggregatorKind, StateModelKind};
use crate::options::PluginOptions;
use crate::version::Version;
use crate::world::World;

/// What a component file is.
#[derive(Debug, Clone, Serialize)]
pub struct PluginReport {
    /// The sha256 of the file.
    pub digest: String,
    /// Its size in bytes.
    pub size_bytes: usize,
    /// The world it was built for.
    pub world: World,
    /// The world's WIT name.
    pub wit_world: &'static str,
    /// Imported interfaces, with versions (e.g. `strand:host/log@0.1.0`).
    pub imports: Vec<String>,
    /// Exported interfaces, with versions.
    pub exports: Vec<String>,
    /// A state model's definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<StateModelDefinition>,
    /// An aggregator's info.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregator: Option<AggregatorInfo>,
}

/// Reads, compiles, type-checks and describes the component in `path`;
/// with `canary`, also runs the canary call a hot swap would run.
///
/// # Errors
/// The first [`LoadError`] met: not a component, wrong world, incompatible
/// version, type-check failure, a trap in its definition, a failed canary.
pub fn inspect_file(
    host: &Arc<PluginHost>,
    path: &Path,
    canary: bool,
) -> Result<PluginReport, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("plugin");
    inspect_bytes(host, name, &bytes, canary)
}

/// [`inspect_file`] for a component already in memory (`name` labels its
/// log lines), e.g. one uploaded for a cluster-wide deployment.
///
/// # Errors
/// As [`inspect_file`], except for reading the file.
pub fn inspect_bytes(
    host: &Arc<PluginHost>,
    name: &str,
    bytes: &[u8],
    canary: bool,
) -> Result<PluginReport, LoadError> {
    let (component, digest) = host.compile(bytes)?;
    let (imports, exports) = host.interface_names(&component);
    let world = host.detect_world(&component)?;
    let options = PluginOptions::default();
    let mut report = PluginReport {
        digest: digest.clone(),
        size_bytes: bytes.len(),
        world,
        wit_world: world.wit_name(),
        imports,
        exports,
        definition: None,
        aggregator: None,
    };
    match world {
        World::StateModel => {
            let v = Version::<StateModelKind>::prepare(
                host, name, &component, digest, options, canary,
            )?;
            report.definition = Some(v.descriptor);
        }
        World::Aggregator => {
            let v = Version::<AggregatorKind>::prepare(
                host, name, &component, digest, options, canary,
            )?;
            report.aggregator = Some(v.descriptor);
        }
    }
    Ok(report)
}
