//! A polyglot plugin's `strand-plugin.toml` (optional, next to its `app.py`
//! or `plugin.js`): which interfaces it imports beyond its world,
//!
//! ```toml
//! imports = ["wasi:http"]
//! ```
//!
//! `wasi:http` (the only one so far) is `wasi:http/outgoing-handler`, which
//! the host provides to state models and lets through only where the
//! participant grants: a JavaScript plugin is then built with `fetch`
//! (componentize-js without `--disable http`), a Python one against a world
//! that adds the import ([`crate::wasi_wit`]). The file is one of the
//! plugin's sources, so it is part of its fingerprint. Anything else in it
//! — an unknown import, an unknown key — is a build error naming the file.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, anyhow};
use serde::Deserialize;

/// The manifest's file name.
pub const FILE: &str = "strand-plugin.toml";

/// An interface a plugin may import beyond its world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExtraImport {
    /// `wasi:http/outgoing-handler` (and its `types`).
    WasiHttp,
}

impl ExtraImport {
    /// Every import a manifest may name.
    pub const ALL: [ExtraImport; 1] = [ExtraImport::WasiHttp];

    /// Its name in a manifest.
    pub fn name(self) -> &'static str {
        match self {
            Self::WasiHttp => "wasi:http",
        }
    }
}

impl fmt::Display for ExtraImport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ExtraImport {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|i| i.name() == s.trim())
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|i| i.name()).collect();
                format!(
                    "unknown import {s:?}: a plugin can import {} (what the host provides beyond the world)",
                    known.join(", ")
                )
            })
    }
}

/// What a plugin's manifest says (empty when it has none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The extra imports, sorted, each once.
    pub imports: Vec<ExtraImport>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    imports: Vec<String>,
}

/// Where the manifest of the plugin in `source` is.
pub fn path(source: &Path) -> PathBuf {
    source.join(FILE)
}

/// Reads the manifest of the plugin in `source` (none: empty).
///
/// # Errors
/// When it cannot be read, is not such TOML, or names an unknown import —
/// with the file's path.
pub fn read(source: &Path) -> Result<Manifest> {
    let file = path(source);
    if !file.is_file() {
        return Ok(Manifest::default());
    }
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    parse(&text).map_err(|e| anyhow!("{}: {e}", file.display()))
}

/// Parses a manifest's text.
///
/// # Errors
/// One line saying what is wrong.
pub fn parse(text: &str) -> Result<Manifest, String> {
    let file: File = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        match line {
            Some(line) => format!("line {line}: {}", e.message()),
            None => e.message().to_owned(),
        }
    })?;
    let mut imports = file
        .imports
        .iter()
        .map(|i| i.parse())
        .collect::<Result<Vec<ExtraImport>, String>>()?;
    imports.sort();
    imports.dedup();
    Ok(Manifest { imports })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_known_imports_and_refuses_the_rest() {
        assert_eq!(parse(""), Ok(Manifest::default()));
        assert_eq!(
            parse("imports = [\"wasi:http\", \"wasi:http\"]\n").map(|m| m.imports),
            Ok(vec![ExtraImport::WasiHttp])
        );
        let e = parse("imports = [\"wasi:sockets\"]\n").expect_err("unknown import");
        assert!(
            e.starts_with("unknown import \"wasi:sockets\": a plugin can import wasi:http"),
            "{e}"
        );
        let e = parse("import = [\"wasi:http\"]\n").expect_err("unknown key");
        assert!(e.contains("unknown field `import`"), "{e}");
        let e = parse("\nimports = \"wasi:http\"\n").expect_err("not a list");
        assert!(e.starts_with("line 2: invalid type"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn a_bad_manifest_names_its_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(read(dir.path()).expect("none"), Manifest::default());
        std::fs::write(path(dir.path()), "imports = [\"acme:inventory\"]\n").expect("write");
        let e = format!("{:#}", read(dir.path()).expect_err("unknown import"));
        assert!(
            e.contains("strand-plugin.toml: unknown import \"acme:inventory\""),
            "{e}"
        );
    }
}
