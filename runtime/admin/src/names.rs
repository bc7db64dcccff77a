//! Which names can become znode names: clusters, instances, resources,
//! state models, customized-state types, partitions. [`validate`] refuses,
//! with the reason, every name ZooKeeper would refuse in a path
//! (`PathUtils.validatePath` in ZooKeeper's source) or that would land
//! somewhere else in the tree (`/`, `.`, `..`), so a bad name is a clear
//! [`AdminError::Invalid`] and never reaches ZooKeeper.

use crate::error::{AdminError, Result};

/// Longest name accepted, in UTF-8 bytes: room for a maximal DNS host name
/// and a port (`host_port`), and small enough that the paths and records
/// repeating a name (one per partition, message, view) stay far below
/// ZooKeeper's request size limit.
pub const MAX_NAME_BYTES: usize = 512;

/// Refuses a name that cannot be one znode's name; `kind` says what it
/// names (`"cluster"`, `"instance"`, …) for the message.
pub fn validate(kind: &str, name: &str) -> Result<()> {
    match problem(kind, name) {
        None => Ok(()),
        Some(reason) => Err(AdminError::Invalid(format!(
            "invalid {kind} name {name:?}: {reason}"
        ))),
    }
}

/// Why `name` cannot be a znode name, if it cannot.
fn problem(kind: &str, name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a name must not be empty".into());
    }
    if name == "." || name == ".." {
        return Some("ZooKeeper takes \".\" and \"..\" for relative paths".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return Some(format!(
            "it is {} bytes long; at most {MAX_NAME_BYTES} are accepted",
            name.len()
        ));
    }
    if kind == "cluster" && name == "zookeeper" {
        return Some("/zookeeper is ZooKeeper's own subtree".into());
    }
    for (index, c) in name.chars().enumerate() {
        let why = match c {
            '/' => "'/' separates znodes in a path",
            '\0' => "ZooKeeper refuses the NUL character",
            '\u{1}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => "ZooKeeper refuses control characters",
            '\u{e000}'..='\u{f8ff}' => "ZooKeeper refuses private-use characters (U+E000–U+F8FF)",
            '\u{fff0}'..='\u{ffff}' => "ZooKeeper refuses the specials block (U+FFF0–U+FFFF)",
            // Java strings hold these as surrogate pairs, which ZooKeeper's
            // path check refuses.
            '\u{10000}'.. => {
                "ZooKeeper refuses characters outside Unicode's Basic Multilingual Plane, \
                 such as emoji"
            }
            _ => continue,
        };
        return Some(format!(
            "character {index} ({}) is not allowed: {why}",
            describe(c)
        ));
    }
    None
}

/// `'x' U+0078`, or just `U+0007` for characters that do not print.
fn describe(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", u32::from(c))
    } else {
        format!("{c:?} U+{:04X}", u32::from(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass() {
        for name in [
            "MyCluster",
            "localhost_12913",
            "P0",
            "host.example.com_1",
            "db-1",
            "Ünïcode ok",
            "a:b",
            "..a",
            "a.",
        ] {
            validate("resource", name).expect(name);
        }
        validate("resource", "zookeeper").expect("only a cluster cannot be called zookeeper");
    }

    #[test]
    fn names_zookeeper_cannot_take_are_refused_with_the_reason() {
        let cases = [
            ("", "must not be empty"),
            (".", "relative paths"),
            ("..", "relative paths"),
            ("a/b", "'/' separates"),
            ("a\0b", "NUL"),
            ("tab\there", "control characters"),
            ("del\u{7f}", "control characters"),
            ("c1\u{85}", "control characters"),
            (
                "smile\u{1F600}",
                "outside Unicode's Basic Multilingual Plane",
            ),
            ("private\u{E000}", "private-use"),
            ("special\u{FFFE}", "specials"),
        ];
        for (name, needle) in cases {
            let err = validate("resource", name).expect_err(name).to_string();
            assert!(err.contains(needle), "{name:?}: {err}");
            assert!(err.starts_with("invalid resource name"), "{err}");
        }
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        assert!(validate("instance", &long).is_err());
        assert!(validate("instance", &"x".repeat(MAX_NAME_BYTES)).is_ok());
        let err = validate("cluster", "zookeeper").expect_err("reserved");
        assert!(err.to_string().contains("ZooKeeper's own"), "{err}");
    }

    #[test]
    fn the_offending_character_is_named() {
        let err = validate("cluster", "ab\u{1}")
            .expect_err("control")
            .to_string();
        assert!(err.contains("character 2 (U+0001)"), "{err}");
        let err = validate("cluster", "x\u{1F600}")
            .expect_err("emoji")
            .to_string();
        assert!(err.contains("U+1F600"), "{err}");
    }
}
