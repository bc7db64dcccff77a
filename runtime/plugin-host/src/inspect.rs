//! Inspecting and checking a component file without installing it: which
//! world it targets, its interface versions, and its self-description
//! (`strand plugin inspect`), and for `strand plugin check` a sandbox run of
//! every transition of a state model.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use strand_model::plugin::{
    AggregatorInfo, ComponentInspector, InspectError, PluginDescription, StateModelSpec,
};

use crate::customized::InMemoryCustomizedState;
use crate::engine::{HostConfig, PluginHost};
use crate::error::{CallError, LoadError, Rejection};
use crate::handles::transition_result;
use crate::kind::{AggregatorKind, StateModelKind, canary_context};
use crate::options::{CallOptions, PluginOptions};
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
    pub definition: Option<StateModelSpec>,
    /// An aggregator's info.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregator: Option<AggregatorInfo>,
    /// For [`check_bytes`]: each transition of a state model run once in
    /// the sandbox, in the definition's order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sandbox: Vec<SandboxRun>,
}

impl PluginReport {
    /// The sandbox runs that faulted (trap, timeout, memory).
    pub fn sandbox_failures(&self) -> impl Iterator<Item = &SandboxRun> {
        self.sandbox
            .iter()
            .filter(|r| matches!(r.outcome, SandboxOutcome::Failed { .. }))
    }
}

/// One transition run in the sandbox: a made-up partition of the
/// `__canary__` cluster, a throwaway customized state, the canary deadline.
#[derive(Debug, Clone, Serialize)]
pub struct SandboxRun {
    /// `FROM-TO`.
    pub transition: String,
    /// What happened.
    #[serde(flatten)]
    pub outcome: SandboxOutcome,
}

/// How a sandboxed transition ended.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SandboxOutcome {
    /// It returned its note.
    Ok {
        /// The note.
        note: String,
    },
    /// It returned its `err` case: the plugin refused in an orderly way
    /// (it may need a real partition's config), not a fault.
    Rejected {
        /// Which case.
        kind: Rejection,
        /// Its message.
        message: String,
    },
    /// It faulted: a trap (an uncaught exception, a panic), a timeout or
    /// the memory cap.
    Failed {
        /// The reason, with what the plugin wrote to stderr.
        error: String,
        /// What it wrote to stderr (the exception and traceback).
        #[serde(skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
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
    inspect_bytes(host, &file_label(path), &bytes, canary)
}

/// [`check_bytes`] for the component in `path`.
///
/// # Errors
/// As [`inspect_file`].
pub fn check_file(host: &Arc<PluginHost>, path: &Path) -> Result<PluginReport, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    check_bytes(host, &file_label(path), &bytes)
}

fn file_label(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("plugin")
        .to_owned()
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
    describe(host, name, bytes, canary, false)
}

/// What `strand plugin check` does: [`inspect_bytes`] with the canary, then
/// every transition of a state model once in the sandbox
/// ([`PluginReport::sandbox`]). A transition that faults is reported
/// there, not as an error: the report says which, with the plugin's
/// message.
///
/// # Errors
/// As [`inspect_bytes`].
pub fn check_bytes(
    host: &Arc<PluginHost>,
    name: &str,
    bytes: &[u8],
) -> Result<PluginReport, LoadError> {
    describe(host, name, bytes, true, true)
}

fn describe(
    host: &Arc<PluginHost>,
    name: &str,
    bytes: &[u8],
    canary: bool,
    sandbox: bool,
) -> Result<PluginReport, LoadError> {
    let (component, digest) = host.compile_named(name, bytes)?;
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
        sandbox: Vec::new(),
    };
    match world {
        World::StateModel => {
            let v = Version::<StateModelKind>::prepare(
                host, name, &component, digest, options, canary,
            )?;
            if sandbox {
                report.sandbox = run_sandbox(host, &v);
            }
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

impl PluginReport {
    /// The component's self-description, as the plugin store records it.
    pub fn description(&self) -> Option<PluginDescription> {
        match (&self.definition, &self.aggregator) {
            (Some(d), _) => Some(PluginDescription::StateModel(d.clone())),
            (None, Some(a)) => Some(PluginDescription::Aggregator(a.clone())),
            (None, None) => None,
        }
    }
}

/// The plugin store's [`ComponentInspector`]: what a deployment checks
/// ([`inspect_bytes`] with the canary), on a given host or on one created
/// for the first component ([`HostInspector::lazy`]: a process that may
/// validate uploads, the REST server, pays for a wasmtime engine only when
/// one arrives).
pub struct HostInspector {
    config: HostConfig,
    host: OnceLock<Result<Arc<PluginHost>, String>>,
}

impl std::fmt::Debug for HostInspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostInspector")
            .field("created", &self.host.get().is_some())
            .finish_non_exhaustive()
    }
}

impl HostInspector {
    /// Inspects on `host`.
    pub fn new(host: Arc<PluginHost>) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(Ok(Arc::clone(&host)));
        Self {
            config: host.config().clone(),
            host: cell,
        }
    }

    /// Inspects on a host with `config`, created when the first component
    /// is inspected.
    pub fn lazy(config: HostConfig) -> Self {
        Self {
            config,
            host: OnceLock::new(),
        }
    }

    /// The host, created now if it was not yet; why it could not be.
    ///
    /// # Errors
    /// The host's initialisation error, in one line.
    pub fn host(&self) -> Result<Arc<PluginHost>, String> {
        self.host
            .get_or_init(|| {
                PluginHost::new(self.config.clone()).map_err(|e| format!("no plugin host: {e}"))
            })
            .clone()
    }
}

impl ComponentInspector for HostInspector {
    fn inspect_component(
        &self,
        label: &str,
        bytes: &[u8],
    ) -> Result<PluginDescription, InspectError> {
        let host = self.host().map_err(InspectError::Host)?;
        inspect_bytes(&host, label, bytes, true)
            .map_err(|e| InspectError::Invalid(e.one_line()))?
            .description()
            .ok_or_else(|| {
                InspectError::Invalid(
                    "the component describes neither a state model nor an aggregator".to_owned(),
                )
            })
    }
}

/// Runs every transition of `v` once, in definition order.
fn run_sandbox(host: &PluginHost, v: &Version<StateModelKind>) -> Vec<SandboxRun> {
    let opts = CallOptions {
        deadline: Some(host.config().canary_deadline),
        customized_state: Some(Arc::new(InMemoryCustomizedState::new())),
        instance: None,
        routing: None,
    };
    v.descriptor
        .transitions
        .iter()
        .map(|t| {
            let ctx = canary_context(&t.from, &t.to);
            let result = v
                .call(&opts, |b, s| {
                    b.model.strand_statemodel_model().call_transition(s, &ctx)
                })
                .and_then(transition_result);
            let outcome = match result {
                Ok(note) => SandboxOutcome::Ok { note },
                Err(CallError::Rejected { kind, message }) => {
                    SandboxOutcome::Rejected { kind, message }
                }
                Err(e) => SandboxOutcome::Failed {
                    output: e.guest_output().map(str::to_owned),
                    error: e.to_string(),
                },
            };
            SandboxRun {
                transition: t.to_string(),
                outcome,
            }
        })
        .collect()
}
