//! The WASI WIT a Python plugin with extra imports ([`crate::manifest`]) is
//! built against, and the WIT tree it is built from.
//!
//! The WASI packages come from the `wasmtime-wasi-http` crate the host
//! links (found with `cargo metadata` on the host workspace, offline; on a
//! machine that has not fetched the host's dependencies yet — a fresh
//! clone building its plugins first — after `cargo fetch` of this
//! platform's), so a plugin imports exactly the `wasi:http` version the
//! host provides, and nothing is copied into the repository. [`assemble`] writes, under
//! `plugins/target/polyglot/wit/<plugin>/`, a WIT tree whose root package
//! `strand:build` has one world: `strand:plugins/state-model` plus the
//! extra imports, with Strand's packages and the WASI ones in `deps/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::manifest::ExtraImport;

/// The crate whose `wit/` holds the WASI packages the host provides.
pub const WASI_HTTP_CRATE: &str = "wasmtime-wasi-http";

/// The world of an assembled tree.
pub const WORLD: &str = "strand:build/state-model-with-imports";

/// The module name Python code imports `wasi:http/types` as
/// (`from wit_world.imports import http_types`), so that Strand's
/// `strand:statemodel/types` keeps its plain name `types`.
pub const HTTP_TYPES_MODULE: &str = "http_types";

/// The `wit/` directory of the host workspace's `wasmtime-wasi-http`.
///
/// # Errors
/// When cargo cannot fetch or describe the workspace, or the crate is not
/// exactly once in it, or has no `wit/deps/`.
pub fn locate(plugins_dir: &Path) -> Result<PathBuf> {
    let manifest = plugins_dir.join("..").join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // This machine's packages only: offline, cargo cannot fetch the
    // manifests of other platforms' dependencies.
    let host = host_triple()?;
    let metadata = || {
        Command::new(&cargo)
            .args(["metadata", "--format-version", "1", "--offline", "--locked"])
            .args(["--filter-platform", &host])
            .arg("--manifest-path")
            .arg(&manifest)
            .output()
            .with_context(|| format!("running {cargo:?} metadata"))
    };
    let mut out = metadata()?;
    if !out.status.success() {
        // Not fetched yet: this platform's sources are what the host's
        // build downloads anyway.
        let fetch = Command::new(&cargo)
            .args(["fetch", "--locked", "--target", &host])
            .arg("--manifest-path")
            .arg(&manifest)
            .output()
            .with_context(|| format!("running {cargo:?} fetch"))?;
        if !fetch.status.success() {
            bail!(
                "cargo fetch on {} failed (needed to find {WASI_HTTP_CRATE}'s WIT): {}",
                manifest.display(),
                String::from_utf8_lossy(&fetch.stderr).trim()
            );
        }
        out = metadata()?;
    }
    if !out.status.success() {
        bail!(
            "cargo metadata on {} failed (needed to find {WASI_HTTP_CRATE}'s WIT): {}",
            manifest.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("parsing cargo metadata")?;
    let found: Vec<(String, PathBuf)> = metadata["packages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|p| p["name"] == WASI_HTTP_CRATE)
        .filter_map(|p| {
            let version = p["version"].as_str()?.to_owned();
            let dir = Path::new(p["manifest_path"].as_str()?)
                .parent()?
                .join("wit");
            Some((version, dir))
        })
        .collect();
    let [(version, dir)] = found.as_slice() else {
        let versions: Vec<&str> = found.iter().map(|(v, _)| v.as_str()).collect();
        bail!(
            "the host workspace ({}) should depend on exactly one {WASI_HTTP_CRATE}, found [{}]",
            manifest.display(),
            versions.join(", ")
        );
    };
    if !dir.join("deps").is_dir() {
        bail!(
            "{WASI_HTTP_CRATE} {version} has no WIT in {}",
            dir.join("deps").display()
        );
    }
    Ok(dir.clone())
}

/// The host's target triple, from `rustc -vV`.
fn host_triple() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(&rustc)
        .arg("-vV")
        .output()
        .with_context(|| format!("running {rustc:?} -vV"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_owned())
        .with_context(|| format!("{rustc:?} -vV names no host triple"))
}

/// The `package` of a WIT file's text (`strand:plugins@0.2.0`).
pub fn package_of(wit: &str) -> Option<String> {
    wit.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("package "))
        .map(|p| p.trim_end_matches(';').trim().to_owned())
}

fn package_in(file: &Path) -> Result<String> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    package_of(&text).with_context(|| format!("{}: no `package` line", file.display()))
}

/// An assembled WIT tree.
#[derive(Debug, Clone)]
pub struct Assembled {
    /// Its root directory (pass it as the WIT path).
    pub dir: PathBuf,
    /// The world to build ([`WORLD`]).
    pub world: &'static str,
    /// `--import-interface-name` values: `strand:statemodel/types@…=types`,
    /// `wasi:http/types@…=http_types`.
    pub interface_names: Vec<String>,
}

/// Writes the WIT tree of plugin `name` importing `imports` into `out`
/// (replacing what was there): Strand's `wit` and the WASI packages of
/// `wasi_wit` (a [`locate`]d `wit/` directory).
///
/// # Errors
/// When a tree cannot be read or written.
pub fn assemble(
    wit: &Path,
    wasi_wit: &Path,
    imports: &[ExtraImport],
    out: &Path,
) -> Result<Assembled> {
    if out.exists() {
        std::fs::remove_dir_all(out).with_context(|| format!("removing {}", out.display()))?;
    }
    let deps = out.join("deps");
    std::fs::create_dir_all(&deps).with_context(|| format!("creating {}", deps.display()))?;
    // Strand's root package becomes a dependency folder, its own deps sit
    // beside it.
    let plugins_wit = wit.join("plugins.wit");
    let plugins_package = package_in(&plugins_wit)?;
    let folder = plugins_package
        .split_once(':')
        .map_or(plugins_package.as_str(), |(_, n)| n);
    copy_tree_files(wit, &deps.join(folder), false)?;
    copy_tree_files(&wit.join("deps"), &deps, true)?;
    let mut statemodel_types = None;
    for entry in std::fs::read_dir(wit.join("deps"))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(version) = name.strip_prefix("statemodel@") {
            statemodel_types = Some(format!("strand:statemodel/types@{version}"));
        }
    }
    let statemodel_types =
        statemodel_types.context("wit/deps has no statemodel@<version> folder")?;
    let mut world_imports = Vec::new();
    let mut interface_names = vec![format!("{statemodel_types}=types")];
    for import in imports {
        match import {
            ExtraImport::WasiHttp => {
                copy_tree_files(&wasi_wit.join("deps"), &deps, true)?;
                let http = package_in(&wasi_wit.join("deps").join("http.wit"))?;
                let version = http.split_once('@').map_or("", |(_, v)| v);
                world_imports.push(format!("    import wasi:http/outgoing-handler@{version};"));
                interface_names.push(format!("wasi:http/types@{version}={HTTP_TYPES_MODULE}"));
            }
        }
    }
    let world = WORLD.rsplit_once('/').map_or(WORLD, |(_, w)| w).to_owned();
    let text = format!(
        "// Generated by strand-plugin-build for one plugin's build; not a source.\n\
         package strand:build;\n\n\
         world {world} {{\n    include {plugins_package_world};\n{imports}\n}}\n",
        plugins_package_world = with_world(&plugins_package, "state-model"),
        imports = world_imports.join("\n"),
    );
    std::fs::write(out.join("world.wit"), text)?;
    Ok(Assembled {
        dir: out.to_owned(),
        world: WORLD,
        interface_names,
    })
}

/// `ns:pkg@v` and `world` into `ns:pkg/world@v`.
fn with_world(package: &str, world: &str) -> String {
    match package.split_once('@') {
        Some((name, version)) => format!("{name}/{world}@{version}"),
        None => format!("{package}/{world}"),
    }
}

/// Copies the `.wit` files of `from` into `to` — subdirectories too when
/// `recursive` — skipping hidden entries.
fn copy_tree_files(from: &Path, to: &Path, recursive: bool) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            if recursive {
                copy_tree_files(&path, &to.join(&name), true)?;
            }
        } else if path.extension().is_some_and(|e| e == "wit") {
            std::fs::copy(&path, to.join(&name))
                .with_context(|| format!("copying {}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, relative: &str, text: &str) {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn assembles_strand_and_wasi_packages_under_one_world() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (wit, wasi, out) = (
            dir.path().join("wit"),
            dir.path().join("wasi"),
            dir.path().join("out"),
        );
        write(&wit, "plugins.wit", "package strand:plugins@0.2.0;\n");
        write(
            &wit,
            "deps/statemodel@0.1.0/statemodel.wit",
            "package strand:statemodel@0.1.0;\n",
        );
        write(&wasi, "deps/http.wit", "package wasi:http@0.2.12;\n");
        write(&wasi, "deps/io.wit", "package wasi:io@0.2.12;\n");
        write(&out, "stale.wit", "left over");
        let a = assemble(&wit, &wasi, &[ExtraImport::WasiHttp], &out).expect("assemble");
        assert_eq!(a.world, "strand:build/state-model-with-imports");
        assert_eq!(
            a.interface_names,
            [
                "strand:statemodel/types@0.1.0=types",
                "wasi:http/types@0.2.12=http_types"
            ]
        );
        let world = std::fs::read_to_string(out.join("world.wit")).expect("world");
        assert!(
            world.contains("include strand:plugins/state-model@0.2.0;")
                && world.contains("import wasi:http/outgoing-handler@0.2.12;"),
            "{world}"
        );
        for file in [
            "deps/plugins@0.2.0/plugins.wit",
            "deps/statemodel@0.1.0/statemodel.wit",
            "deps/http.wit",
            "deps/io.wit",
        ] {
            assert!(out.join(file).is_file(), "{file}");
        }
        assert!(!out.join("stale.wit").exists());
        assert_eq!(
            package_of("// x\npackage a:b@1.0.0;\n").as_deref(),
            Some("a:b@1.0.0")
        );
    }
}
