//! The pinned toolchains, installed on first use from their registries into
//! `plugins/target/toolchains/` (nothing else is downloaded):
//!
//! * `python/`: a virtualenv with componentize-py [`COMPONENTIZE_PY_VERSION`]
//!   from PyPI (it bundles CPython for WASI);
//! * `js/`: `npm install` of `plugins/js/package.json` against the committed
//!   `plugins/js/package-lock.json` (componentize-js 0.23.0 with
//!   preview2-shim pinned to 0.25.0: componentize-js imports it without
//!   declaring it, and 0.26 breaks its file access). Not `npm ci`, which
//!   rejects a lock that lists other platforms' optional packages.
//!
//! Each install leaves a stamp naming what it installed; a changed pin or
//! lock reinstalls.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::manifest::{ExtraImport, Manifest};
use crate::process::{on_path, run};
use crate::wasi_wit::Assembled;
use crate::{Language, PolyglotPlugin, STATE_MODEL_WORLD};

/// The componentize-py release the Python plugins are built with.
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// The stamp file an install leaves in its directory.
const STAMP: &str = ".strand-installed";

/// Where the toolchains live: `plugins/target/toolchains`, with
/// `plugins/target` resolved when it is a link to a cache outside the
/// clone (`.ci/run` sets one up): a Python venv records its absolute path,
/// which must stay valid for the next clone that shares the cache.
pub fn root(plugins_dir: &Path) -> PathBuf {
    let target = plugins_dir.join("target");
    std::fs::canonicalize(&target)
        .unwrap_or(target)
        .join("toolchains")
}

/// An installed toolchain, ready to build plugins of its language.
#[derive(Debug, Clone)]
pub struct Toolchain {
    language: Language,
    program: PathBuf,
    /// What is installed (the pin, or a hash of the npm manifest and lock);
    /// part of every component's fingerprint.
    pub identity: String,
}

/// Installs the toolchain of `language` unless the installed one matches
/// its pin.
///
/// # Errors
/// When Python (with `venv`) or npm is missing, or the install fails.
pub fn ensure(plugins_dir: &Path, language: Language) -> Result<Toolchain> {
    match language {
        Language::Python => ensure_python(plugins_dir),
        Language::JavaScript => ensure_js(plugins_dir),
    }
}

fn installed(dir: &Path, identity: &str, program: &Path) -> bool {
    program.is_file()
        && std::fs::read_to_string(dir.join(STAMP)).is_ok_and(|s| s.trim() == identity)
}

fn ensure_python(plugins_dir: &Path) -> Result<Toolchain> {
    let dir = root(plugins_dir).join("python");
    let identity = format!("componentize-py=={COMPONENTIZE_PY_VERSION}");
    let program = dir.join("bin").join("componentize-py");
    if !installed(&dir, &identity, &program) {
        tracing::info!(dir = %dir.display(), "installing {identity} from PyPI");
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("removing the stale {}", dir.display()))?;
        }
        let python = std::env::var("STRAND_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut venv = Command::new(&python);
        venv.args(["-m", "venv"]).arg(&dir);
        run(
            venv,
            &format!("creating a virtualenv with {python} (Debian: apt-get install python3-venv)"),
        )?;
        let mut pip = Command::new(dir.join("bin").join("pip"));
        pip.args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
        ])
        .arg(&identity);
        run(pip, &format!("pip install {identity}"))?;
        std::fs::write(dir.join(STAMP), &identity)?;
    }
    Ok(Toolchain {
        language: Language::Python,
        program,
        identity,
    })
}

fn ensure_js(plugins_dir: &Path) -> Result<Toolchain> {
    let dir = root(plugins_dir).join("js");
    let source = plugins_dir.join(Language::JavaScript.dir());
    let mut hash = Sha256::new();
    for file in ["package.json", "package-lock.json"] {
        let path = source.join(file);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        hash.update(file.as_bytes());
        hash.update(&bytes);
    }
    let identity = format!("componentize-js lock {}", hex::encode(hash.finalize()));
    let program = dir
        .join("node_modules")
        .join(".bin")
        .join("componentize-js");
    if !installed(&dir, &identity, &program) {
        if !on_path("npm") {
            bail!(
                "npm is not installed: JavaScript plugins need Node.js 18+ with npm \
                 (`cargo xtask test` installs Debian's nodejs and npm)"
            );
        }
        tracing::info!(dir = %dir.display(), "installing componentize-js from npm");
        std::fs::create_dir_all(&dir)?;
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(source.join(file), dir.join(file))
                .with_context(|| format!("copying {file} to {}", dir.display()))?;
        }
        let mut npm = Command::new("npm");
        npm.args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir);
        run(npm, "npm install (componentize-js)")?;
        std::fs::write(dir.join(STAMP), &identity)?;
    }
    Ok(Toolchain {
        language: Language::JavaScript,
        program,
        identity,
    })
}

impl Toolchain {
    /// Builds `plugin` against the WIT in `wit` (a Python plugin with extra
    /// imports against its `assembled` tree instead), writing the component
    /// to `out`.
    pub(crate) fn build(
        &self,
        plugin: &PolyglotPlugin,
        wit: &Path,
        manifest: &Manifest,
        assembled: Option<&Assembled>,
        out: &Path,
    ) -> Result<()> {
        let mut command = Command::new(&self.program);
        match self.language {
            Language::Python => {
                let module = Language::Python.entry().trim_end_matches(".py");
                match assembled {
                    Some(tree) => {
                        command
                            .arg("--wit-path")
                            .arg(&tree.dir)
                            .args(["--world", tree.world]);
                        for name in &tree.interface_names {
                            command.args(["--import-interface-name", name]);
                        }
                    }
                    None => {
                        command
                            .arg("--wit-path")
                            .arg(wit)
                            .args(["--world", STATE_MODEL_WORLD]);
                    }
                }
                command
                    .args(["componentize", "--python-path"])
                    .arg(&plugin.source)
                    .arg(module)
                    .arg("--output")
                    .arg(out);
                // componentize-py leaves a __pycache__ next to the sources:
                // ignored by git and by the fingerprint.
            }
            Language::JavaScript => {
                command
                    .arg(plugin.source.join(Language::JavaScript.entry()))
                    .arg("--wit")
                    .arg(wit)
                    .args(["--world-name", STATE_MODEL_WORLD]);
                // Without `http` the component imports no wasi:http; with it
                // `fetch` goes through wasi:http/outgoing-handler, which the
                // host provides (and denies unless granted). A plugin
                // serves no incoming requests.
                if !manifest.imports.contains(&ExtraImport::WasiHttp) {
                    command.args(["--disable", "http"]);
                }
                command
                    .args(["--disable", "fetch-event"])
                    .arg("--out")
                    .arg(out);
            }
        }
        run(
            command,
            &format!("building {} ({})", plugin.name, self.language),
        )
    }
}
