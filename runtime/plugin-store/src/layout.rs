//! [`StorePaths`]: where the plugin store keeps things, below
//! `/<C>/PROPERTYSTORE/STRAND` (see the crate docs for the table).

use strand_model::PropertyPaths;

/// Paths of one cluster's plugin store.
#[derive(Debug, Clone)]
pub struct StorePaths {
    root: String,
    cluster: PropertyPaths,
}

impl StorePaths {
    /// The paths of `cluster`.
    pub fn new(cluster: &str) -> Self {
        let cluster = PropertyPaths::new(cluster);
        Self {
            root: format!("{}/STRAND", cluster.property_store()),
            cluster,
        }
    }

    /// The cluster's Helix paths.
    pub fn cluster(&self) -> &PropertyPaths {
        &self.cluster
    }

    /// `/<C>/PROPERTYSTORE/STRAND`.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// `…/ARTEFACTS`.
    pub fn artefacts(&self) -> String {
        format!("{}/ARTEFACTS", self.root)
    }

    /// `…/ARTEFACTS/<sha256>`: the manifest.
    pub fn artefact(&self, sha256: &str) -> String {
        format!("{}/{sha256}", self.artefacts())
    }

    /// `…/ARTEFACTS/<sha256>/<nnnn>`: one chunk.
    pub fn chunk(&self, sha256: &str, index: usize) -> String {
        format!("{}/{}", self.artefact(sha256), chunk_name(index))
    }

    /// `…/PLUGINS`.
    pub fn plugins(&self) -> String {
        format!("{}/PLUGINS", self.root)
    }

    /// `…/PLUGINS/<name>`.
    pub fn plugin(&self, name: &str) -> String {
        format!("{}/{name}", self.plugins())
    }

    /// `…/POLICY`: the storage policy.
    pub fn policy(&self) -> String {
        format!("{}/POLICY", self.root)
    }

    /// `…/STATUS`.
    pub fn statuses(&self) -> String {
        format!("{}/STATUS", self.root)
    }

    /// `…/STATUS/<instance>`.
    pub fn status(&self, instance: &str) -> String {
        format!("{}/{instance}", self.statuses())
    }
}

/// The znode name of chunk `index`: four decimal digits (more when needed).
pub fn chunk_name(index: usize) -> String {
    format!("{index:04}")
}

/// Checks that `name` can be a plugin name (a znode name and a Helix id).
///
/// # Errors
/// The reason, when it is empty, too long, or holds anything but ASCII
/// letters, digits, `_`, `-` and `.` (or is `.`/`..`).
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+');
    if name.is_empty() || name.len() > 200 || name == "." || name == ".." {
        return Err(format!("{what} {name:?} must be 1 to 200 characters"));
    }
    if let Some(bad) = name.chars().find(|c| !ok_char(*c)) {
        return Err(format!(
            "{what} {name:?} holds {bad:?}; use letters, digits, '_', '-', '.' and '+'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_live_in_the_property_store() {
        let p = StorePaths::new("C");
        assert_eq!(p.root(), "/C/PROPERTYSTORE/STRAND");
        assert_eq!(
            p.chunk("ab", 3),
            "/C/PROPERTYSTORE/STRAND/ARTEFACTS/ab/0003"
        );
        assert_eq!(
            p.plugin("MasterSlave"),
            "/C/PROPERTYSTORE/STRAND/PLUGINS/MasterSlave"
        );
        assert_eq!(p.status("h_1"), "/C/PROPERTYSTORE/STRAND/STATUS/h_1");
    }

    #[test]
    fn names_are_znode_safe() {
        assert!(check_name("name", "MasterSlave").is_ok());
        assert!(check_name("version", "0.2.0-rc.1").is_ok());
        assert!(check_name("name", "").is_err());
        assert!(check_name("name", "a/b").is_err());
        assert!(check_name("name", "..").is_err());
        assert!(check_name("name", "a b").is_err());
    }
}
