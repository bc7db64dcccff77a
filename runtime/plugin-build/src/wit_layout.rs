//! Rules on the layout of the WIT tree (`wit/README.md`), checked by
//! `tests/wit_layout.rs`:
//!
//! * every folder of `deps/` is named `<package>@<version>` after the
//!   `package` line of its files ([`misnamed_deps`]);
//! * the plugin SDK's `plugins/sdk/wit/` is a byte-for-byte copy of `wit/`,
//!   so the SDK works when a crate outside this repository depends on it
//!   (by path or git) and still describes the contract the host was built
//!   for ([`differences`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The SDK's copy of the WIT under `plugins_dir`.
pub fn sdk_wit_dir(plugins_dir: &Path) -> PathBuf {
    plugins_dir.join("sdk").join("wit")
}

/// The relative paths where the trees `original` and `copy` differ, each
/// with what is wrong (missing from the copy, only in the copy, different
/// contents), sorted; empty when they are equal. Hidden entries are ignored,
/// as in [`crate::fingerprint`].
///
/// # Errors
/// When a directory or file cannot be read.
pub fn differences(original: &Path, copy: &Path) -> Result<Vec<String>> {
    let original_files = contents(original)?;
    let copy_files = contents(copy)?;
    let mut found = Vec::new();
    for (path, bytes) in &original_files {
        match copy_files.get(path) {
            None => found.push(format!("{path}: missing from the copy")),
            Some(other) if other != bytes => found.push(format!("{path}: contents differ")),
            Some(_) => {}
        }
    }
    for path in copy_files.keys() {
        if !original_files.contains_key(path) {
            found.push(format!("{path}: only in the copy"));
        }
    }
    found.sort();
    Ok(found)
}

/// The folders of `wit_dir/deps` whose name is not `<package>@<version>` of
/// the `package strand:<package>@<version>;` line of their `.wit` files,
/// each with what is wrong; empty when all agree.
///
/// # Errors
/// When the tree cannot be read.
pub fn misnamed_deps(wit_dir: &Path) -> Result<Vec<String>> {
    let deps = wit_dir.join("deps");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&deps).with_context(|| format!("reading {}", deps.display()))? {
        let folder = entry?.path();
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut files = Vec::new();
        crate::fingerprint::walk(&folder, &mut files)?;
        let wit_files: Vec<_> = files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "wit"))
            .collect();
        if wit_files.is_empty() {
            found.push(format!("deps/{name}: no .wit file"));
        }
        for file in wit_files {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let relative = file.strip_prefix(wit_dir).unwrap_or(file).display();
            match package_folder_name(&text) {
                Some(expected) if expected == name => {}
                Some(expected) => {
                    found.push(format!(
                        "{relative}: declares {expected}, its folder is {name}"
                    ));
                }
                None => found.push(format!(
                    "{relative}: no `package <namespace>:<name>@<version>;` line"
                )),
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `<name>@<version>` of the first `package <namespace>:<name>@<version>;`
/// line of a WIT file.
fn package_folder_name(wit: &str) -> Option<String> {
    let line = wit
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("package "))?;
    let package = line.strip_prefix("package ")?.trim_end_matches(';').trim();
    let (_namespace, name_version) = package.split_once(':')?;
    name_version.contains('@').then(|| name_version.to_owned())
}

/// Every file under `root`, by relative path (with `/`), with its bytes.
fn contents(root: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = Vec::new();
    crate::fingerprint::walk(root, &mut files)?;
    let mut out = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(root).unwrap_or(&file);
        let key = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        out.insert(key, std::fs::read(&file)?);
    }
    Ok(out)
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
    fn folder_names_follow_package_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let wit = dir.path();
        write(
            wit,
            "deps/host@0.1.0/host.wit",
            "/// docs\npackage strand:host@0.1.0;\n",
        );
        write(
            wit,
            "deps/statemodel/statemodel.wit",
            "package strand:statemodel@0.1.0;\n",
        );
        write(wit, "deps/old@0.1.0/old.wit", "package strand:old@0.1.1;\n");
        write(wit, "deps/bare@0.1.0/bare.wit", "package strand:bare;\n");
        assert_eq!(
            misnamed_deps(wit).expect("check"),
            [
                "deps/bare@0.1.0/bare.wit: no `package <namespace>:<name>@<version>;` line",
                "deps/old@0.1.0/old.wit: declares old@0.1.1, its folder is old@0.1.0",
                "deps/statemodel/statemodel.wit: declares statemodel@0.1.0, its folder is statemodel",
            ]
        );
    }

    #[test]
    fn reports_missing_extra_and_changed_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for root in [&a, &b] {
            write(root, "plugins.wit", "package x:y@0.1.0;\n");
            write(root, "deps/host@0.1.0/host.wit", "package x:host@0.1.0;\n");
        }
        assert_eq!(differences(&a, &b).expect("compare"), Vec::<String>::new());

        write(&b, "deps/host@0.1.0/host.wit", "package x:host@0.1.1;\n");
        write(&a, "deps/new@0.1.0/new.wit", "package x:new@0.1.0;\n");
        write(&b, "deps/host/host.wit", "package x:host@0.1.0;\n");
        assert_eq!(
            differences(&a, &b).expect("compare"),
            [
                "deps/host/host.wit: only in the copy",
                "deps/host@0.1.0/host.wit: contents differ",
                "deps/new@0.1.0/new.wit: missing from the copy",
            ]
        );
    }
}
