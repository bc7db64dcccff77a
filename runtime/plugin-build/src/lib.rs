//! Builds Strand's plugins written in Python and JavaScript.
//!
//! Rust plugins are an ordinary cargo workspace (`plugins/`); the others are
//! found by layout:
//!
//! | source | language | component name | built with |
//! |---|---|---|---|
//! | `plugins/python/<name>/app.py` | [`Language::Python`] | `py-<name>` | componentize-py (pinned: [`COMPONENTIZE_PY_VERSION`]) |
//! | `plugins/js/<name>/plugin.js` | [`Language::JavaScript`] | `js-<name>` | componentize-js (pinned in `plugins/js/package.json` + lock) |
//!
//! Both target the same WIT as the Rust plugins (`wit/`, world
//! `strand:plugins/state-model`). The components land in
//! `plugins/target/polyglot/<name with _>.wasm`.
//!
//! The toolchains install themselves from PyPI and npm into
//! `plugins/target/toolchains/` the first time they are needed
//! ([`toolchain`]), and a component is rebuilt only when the sha256 of its
//! sources, the WIT and the toolchain pin changed ([`fingerprint`]). One
//! process at a time builds (an exclusive lock on
//! `plugins/target/toolchains/.lock`), so `cargo test` and `cargo xtask test`
//! may share the directory.
//!
//! A plugin that imports more than its world — `wasi:http`, to call its
//! application — says so in a `strand-plugin.toml` next to its entry file
//! ([`manifest`]); a Python one is then built against a WIT tree assembled
//! with the host's own WASI packages ([`wasi_wit`]), a JavaScript one with
//! componentize-js's `fetch`.
//!
//! Used by `cargo xtask test` and by `strand_devcluster::plugins`.
//! [`wit_layout`] checks the WIT tree: `deps/` folder names, and the plugin
//! SDK's copy of the WIT against `wit/`.

pub mod fingerprint;
pub mod manifest;
mod process;
pub mod toolchain;
pub mod wasi_wit;
pub mod wit_layout;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub use toolchain::COMPONENTIZE_PY_VERSION;

/// The WIT world every polyglot plugin is built for.
pub const STATE_MODEL_WORLD: &str = "strand:plugins/state-model";

/// The language of a plugin source directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// `plugins/python/<name>/app.py`, built with componentize-py.
    Python,
    /// `plugins/js/<name>/plugin.js`, built with componentize-js.
    JavaScript,
}

impl Language {
    /// Both languages.
    pub const ALL: [Language; 2] = [Language::Python, Language::JavaScript];

    /// The directory under `plugins/` holding this language's plugins.
    pub fn dir(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::JavaScript => "js",
        }
    }

    /// The prefix of its component names (`py-master-slave`).
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Python => "py",
            Self::JavaScript => "js",
        }
    }

    /// The file a plugin directory must contain.
    pub fn entry(self) -> &'static str {
        match self {
            Self::Python => "app.py",
            Self::JavaScript => "plugin.js",
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Python => "Python",
            Self::JavaScript => "JavaScript",
        })
    }
}

/// One plugin written in Python or JavaScript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolyglotPlugin {
    /// The component name, e.g. `py-master-slave`.
    pub name: String,
    /// Its language.
    pub language: Language,
    /// Its source directory.
    pub source: PathBuf,
}

impl PolyglotPlugin {
    /// Where its component lands under `plugins_dir`.
    pub fn output(&self, plugins_dir: &Path) -> PathBuf {
        output_dir(plugins_dir).join(format!("{}.wasm", self.name.replace('-', "_")))
    }
}

/// What [`build`] did for one plugin.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// The plugin.
    pub plugin: PolyglotPlugin,
    /// Its component.
    pub output: PathBuf,
    /// True when the component was up to date and nothing ran.
    pub cached: bool,
    /// Time spent (the toolchain run, or only the fingerprint when cached).
    pub elapsed: Duration,
    /// Size of the component in bytes.
    pub size_bytes: u64,
}

/// Where the components land: `plugins/target/polyglot`.
pub fn output_dir(plugins_dir: &Path) -> PathBuf {
    plugins_dir.join("target").join("polyglot")
}

/// The repository's WIT directory, next to `plugins/`.
pub fn wit_dir(plugins_dir: &Path) -> PathBuf {
    plugins_dir.join("..").join("wit")
}

/// Every Python and JavaScript plugin under `plugins_dir`, sorted by name.
///
/// # Errors
/// When a language directory exists but cannot be read.
pub fn discover(plugins_dir: &Path) -> Result<Vec<PolyglotPlugin>> {
    let mut found = Vec::new();
    for language in Language::ALL {
        let dir = plugins_dir.join(language.dir());
        if !dir.is_dir() {
            continue;
        }
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if path.join(language.entry()).is_file() {
                found.push(PolyglotPlugin {
                    name: format!("{}-{name}", language.prefix()),
                    language,
                    source: path.clone(),
                });
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// The plugin called `name` (e.g. `py-master-slave`), if there is one.
///
/// # Errors
/// As [`discover`].
pub fn find(plugins_dir: &Path, name: &str) -> Result<Option<PolyglotPlugin>> {
    Ok(discover(plugins_dir)?.into_iter().find(|p| p.name == name))
}

/// Builds `plugin` unless its component is up to date, installing its
/// toolchain first if needed.
///
/// # Errors
/// When the toolchain cannot be installed or the build fails (with the
/// tool's output).
pub fn build(plugins_dir: &Path, plugin: &PolyglotPlugin) -> Result<BuildReport> {
    let _lock = lock(plugins_dir)?;
    build_locked(plugins_dir, plugin)
}

/// Builds every plugin [`discover`] finds (see [`build`]).
///
/// # Errors
/// At the first plugin that fails.
pub fn build_all(plugins_dir: &Path) -> Result<Vec<BuildReport>> {
    let _lock = lock(plugins_dir)?;
    discover(plugins_dir)?
        .iter()
        .map(|p| build_locked(plugins_dir, p))
        .collect()
}

fn build_locked(plugins_dir: &Path, plugin: &PolyglotPlugin) -> Result<BuildReport> {
    let started = Instant::now();
    let manifest =
        manifest::read(&plugin.source).with_context(|| format!("building {}", plugin.name))?;
    let tool = toolchain::ensure(plugins_dir, plugin.language)?;
    let wit = wit_dir(plugins_dir);
    // A Python plugin with extra imports is built against the host's WASI
    // WIT too, so that is part of its fingerprint (the manifest is one of
    // its sources).
    let wasi = if plugin.language == Language::Python && !manifest.imports.is_empty() {
        Some(wasi_wit::locate(plugins_dir)?)
    } else {
        None
    };
    let mut roots: Vec<&Path> = vec![&plugin.source, &wit];
    roots.extend(wasi.as_deref());
    let fingerprint = fingerprint::of(&roots, &tool.identity)?;
    let output = plugin.output(plugins_dir);
    let stamp = output.with_extension("wasm.fingerprint");
    let up_to_date =
        output.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == fingerprint);
    if !up_to_date {
        tracing::info!(plugin = %plugin.name, "building {} plugin", plugin.language);
        std::fs::create_dir_all(output_dir(plugins_dir))?;
        let tmp = output.with_extension("wasm.tmp");
        let assembled = match &wasi {
            Some(wasi) => Some(wasi_wit::assemble(
                &wit,
                wasi,
                &manifest.imports,
                &output_dir(plugins_dir)
                    .join("wit")
                    .join(plugin.name.replace('-', "_")),
            )?),
            None => None,
        };
        tool.build(plugin, &wit, &manifest, assembled.as_ref(), &tmp)?;
        if !tmp.is_file() {
            bail!(
                "{}: the toolchain reported success but wrote no component",
                plugin.name
            );
        }
        std::fs::rename(&tmp, &output)
            .with_context(|| format!("moving the component to {}", output.display()))?;
        std::fs::write(&stamp, &fingerprint)?;
    }
    let size_bytes = std::fs::metadata(&output)?.len();
    Ok(BuildReport {
        plugin: plugin.clone(),
        output,
        cached: up_to_date,
        elapsed: started.elapsed(),
        size_bytes,
    })
}

/// Holds the build lock of `plugins_dir` until dropped.
fn lock(plugins_dir: &Path) -> Result<File> {
    let dir = toolchain::root(plugins_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(".lock");
    let file = File::create(&path).with_context(|| format!("opening {}", path.display()))?;
    file.lock()
        .with_context(|| format!("locking {}", path.display()))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_is_part_of_the_fingerprint() {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = dir.path().join("js/notify");
        std::fs::create_dir_all(&source).expect("mkdir");
        std::fs::write(source.join("plugin.js"), "").expect("write");
        let without = fingerprint::of(&[&source], "tool").expect("fingerprint");
        std::fs::write(source.join(manifest::FILE), "imports = [\"wasi:http\"]\n").expect("write");
        let with = fingerprint::of(&[&source], "tool").expect("fingerprint");
        assert_ne!(without, with, "adding imports rebuilds the plugin");
    }

    #[test]
    fn an_unknown_import_is_a_build_error_naming_the_plugin_and_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = dir.path().join("python/bad");
        std::fs::create_dir_all(&source).expect("mkdir");
        std::fs::write(source.join("app.py"), "").expect("write");
        std::fs::write(
            source.join(manifest::FILE),
            "imports = [\"wasi:http\", \"acme:inventory/stock\"]\n",
        )
        .expect("write");
        let plugin = find(dir.path(), "py-bad")
            .expect("discover")
            .expect("found");
        let e = format!("{:#}", build(dir.path(), &plugin).expect_err("refused"));
        assert!(
            e.starts_with("building py-bad: ")
                && e.contains(
                    "python/bad/strand-plugin.toml: unknown import \"acme:inventory/stock\""
                ),
            "{e}"
        );
        assert!(!plugin.output(dir.path()).exists());
    }

    #[test]
    fn discovers_plugins_by_layout() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path();
        for (sub, file) in [
            ("python/master-slave", "app.py"),
            ("js/master-slave", "plugin.js"),
            ("js/not-a-plugin", "README.md"),
        ] {
            std::fs::create_dir_all(p.join(sub)).expect("mkdir");
            std::fs::write(p.join(sub).join(file), "").expect("write");
        }
        let found = discover(p).expect("discover");
        let names: Vec<_> = found
            .iter()
            .map(|f| (f.name.as_str(), f.language))
            .collect();
        assert_eq!(
            names,
            [
                ("js-master-slave", Language::JavaScript),
                ("py-master-slave", Language::Python)
            ]
        );
        assert_eq!(
            found[1].output(p),
            p.join("target/polyglot/py_master_slave.wasm")
        );
    }
}
