//! The network grants of `strand participant`: `--grant PLUGIN=RULE`
//! (repeatable) and `--grants FILE`, a TOML file
//!
//! ```toml
//! [plugins.redis-master-slave]
//! allow = ["tcp:{host}:6379-6390", "dns"]
//! ```
//!
//! Both add up into one [`GrantTable`]. Grants come only from here (the
//! operator of this machine), never from ZooKeeper: a deployment only
//! *requests* capabilities, and gets them where these grants cover them.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use strand_plugin_host::net::{GrantTable, NetRule};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantsFile {
    #[serde(default)]
    plugins: BTreeMap<String, PluginGrants>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginGrants {
    allow: Vec<String>,
}

/// The grants of `--grants FILE` (if given) and every `--grant`.
///
/// # Errors
/// A file that cannot be read or is not such TOML, a flag that is not
/// `PLUGIN=RULE`, or a rule that does not parse — each named.
pub fn load(file: Option<&Path>, flags: &[String]) -> Result<GrantTable> {
    let mut table = GrantTable::default();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the grants file {}", path.display()))?;
        from_toml(&mut table, &text).with_context(|| format!("grants file {}", path.display()))?;
    }
    for flag in flags {
        table.grant_flag(flag).map_err(anyhow::Error::msg)?;
    }
    Ok(table)
}

fn from_toml(table: &mut GrantTable, text: &str) -> Result<()> {
    // One line: toml's own Display quotes the source over several.
    let file: GrantsFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        match line {
            Some(line) => anyhow::anyhow!("line {line}: {}", e.message()),
            None => anyhow::anyhow!("{}", e.message()),
        }
    })?;
    for (plugin, grants) in file.plugins {
        if plugin.trim().is_empty() {
            bail!("a [plugins.\"\"] table needs a plugin name");
        }
        for rule in grants.allow {
            let parsed: NetRule = rule
                .parse()
                .map_err(|e| anyhow::anyhow!("[plugins.{plugin}] allow: {e}"))?;
            table.grant(&plugin, parsed);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<GrantTable> {
        let mut t = GrantTable::default();
        from_toml(&mut t, text).map(|()| t)
    }

    #[test]
    fn files_and_flags_add_up() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("grants.toml");
        std::fs::write(
            &path,
            "[plugins.redis-master-slave]\nallow = [\"tcp:{host}:6379-6390\", \"dns\"]\n",
        )?;
        let t = load(
            Some(&path),
            &["redis-master-slave=http://{host}:{port}".into()],
        )?;
        let rules: Vec<String> = t
            .rules("redis-master-slave")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            rules,
            ["tcp:{host}:6379-6390", "dns", "http://{host}:{port}"]
        );
        Ok(())
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let cases = [
            (
                "[plugins.x]\nallow = [\"tcp:x\"]\n",
                "[plugins.x] allow: grant \"tcp:x\" does not parse",
            ),
            ("[plugins.x]\ndeny = []\n", "unknown field"),
            ("[plugins.x]\n", "missing field `allow`"),
            ("[plugin.x]\nallow = []\n", "unknown field"),
            ("[plugins.x]\nallow = \"dns\"\n", "invalid type"),
            ("plugins = [", "line 1: "),
            (
                "\n[plugins.x]\nallow = [\"tcp:x:1\",\n",
                "line 3: unclosed array",
            ),
        ];
        for (text, wanted) in cases {
            match parse(text) {
                Ok(t) => panic!("{text:?} parsed: {t:?}"),
                Err(e) => {
                    let e = format!("{e:#}");
                    assert!(e.contains(wanted), "{text:?}: {e}");
                    assert!(!e.contains('\n'), "{text:?}: not one line: {e}");
                }
            }
        }
        let missing =
            load(Some(Path::new("/nonexistent/grants.toml")), &[]).expect_err("no such file");
        assert!(format!("{missing:#}").contains("reading the grants file"));
        let flag = load(None, &["nope".into()]).expect_err("not PLUGIN=RULE");
        assert!(flag.to_string().contains("expected PLUGIN=RULE"), "{flag}");
    }
}
