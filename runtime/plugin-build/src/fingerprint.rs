//! The build cache key: a sha256 over every source file of a plugin and of
//! the WIT (relative path and contents, in sorted order) and the identity
//! of the toolchain that builds it. Hidden entries and `__pycache__` are
//! ignored, so byte-code a toolchain leaves behind does not count.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// The fingerprint of `roots` (directories, each walked recursively) built
/// by the toolchain `identity`, in hex.
///
/// # Errors
/// When a directory or file cannot be read.
pub fn of(roots: &[&Path], identity: &str) -> Result<String> {
    let mut hash = Sha256::new();
    hash.update(identity.as_bytes());
    hash.update([0]);
    for (i, root) in roots.iter().enumerate() {
        let mut files = Vec::new();
        walk(root, &mut files)?;
        files.sort();
        hash.update(i.to_le_bytes());
        for file in files {
            let relative = file.strip_prefix(root).unwrap_or(&file);
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            hash.update(relative.to_string_lossy().as_bytes());
            hash.update([0]);
            hash.update(bytes.len().to_le_bytes());
            hash.update(&bytes);
        }
    }
    Ok(hex::encode(hash.finalize()))
}

pub(crate) fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "__pycache__" {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_with_sources_and_toolchain_but_not_bytecode() {
        let dir = tempfile::tempdir().expect("temp dir");
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("__pycache__")).expect("mkdir");
        std::fs::write(src.join("app.py"), "x = 1\n").expect("write");
        let first = of(&[&src], "tool 1").expect("fingerprint");
        assert_eq!(first, of(&[&src], "tool 1").expect("fingerprint"));

        std::fs::write(src.join("__pycache__/app.pyc"), "junk").expect("write");
        assert_eq!(first, of(&[&src], "tool 1").expect("fingerprint"));

        assert_ne!(first, of(&[&src], "tool 2").expect("fingerprint"));
        std::fs::write(src.join("app.py"), "x = 2\n").expect("write");
        assert_ne!(first, of(&[&src], "tool 1").expect("fingerprint"));
    }
}
