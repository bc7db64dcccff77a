//! [`GrantTable`]: the operator's network allowlist of a participant, per
//! plugin name — from `--grant PLUGIN=RULE` and a grants file — and the
//! check that a deployment's requested capabilities are covered by it.

use std::collections::BTreeMap;

use super::rule::{InstanceAddress, NetRule, RuleError};

/// Network rules granted per plugin name. Empty: nothing for anyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantTable {
    plugins: BTreeMap<String, Vec<NetRule>>,
}

/// Why a deployment's requests are not covered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// A request that does not parse.
    #[error("the deployment requests {0}")]
    Malformed(#[from] RuleError),
    /// A request no local grant covers.
    #[error(
        "the deployment requests {request}, which this participant does not grant {plugin} ({granted}); grant it with --grant {plugin}={request} or in the grants file"
    )]
    NotGranted {
        /// The plugin.
        plugin: String,
        /// The request.
        request: String,
        /// What is granted to the plugin here.
        granted: String,
    },
}

impl GrantTable {
    /// Grants `rule` to `plugin`.
    pub fn grant(&mut self, plugin: &str, rule: NetRule) {
        let rules = self.plugins.entry(plugin.to_owned()).or_default();
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }

    /// Parses a `--grant` value, `PLUGIN=RULE`, and grants it.
    ///
    /// # Errors
    /// When it is not `PLUGIN=RULE` or the rule does not parse.
    pub fn grant_flag(&mut self, flag: &str) -> Result<(), String> {
        let Some((plugin, rule)) = flag.split_once('=') else {
            return Err(format!("--grant {flag:?}: expected PLUGIN=RULE"));
        };
        if plugin.trim().is_empty() {
            return Err(format!("--grant {flag:?}: the plugin name is missing"));
        }
        let rule: NetRule = rule.parse().map_err(|e| format!("--grant {flag:?}: {e}"))?;
        self.grant(plugin.trim(), rule);
        Ok(())
    }

    /// The rules granted to `plugin`.
    pub fn rules(&self, plugin: &str) -> &[NetRule] {
        self.plugins.get(plugin).map_or(&[], Vec::as_slice)
    }

    /// Every plugin with grants, and its rules.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[NetRule])> {
        self.plugins.iter().map(|(p, r)| (p.as_str(), r.as_slice()))
    }

    /// Whether nothing is granted to anyone.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }

    /// The rules a deployment of `plugin` requesting `requests` runs with:
    /// exactly the requests, when every one is covered by a grant to the
    /// plugin — as written, or once `{host}` and `{port}` are filled in for
    /// every instance in `instances`. A deployment that requests nothing
    /// runs with nothing reachable.
    ///
    /// # Errors
    /// The first request that does not parse or is not covered.
    pub fn admit(
        &self,
        plugin: &str,
        requests: &[String],
        instances: &[InstanceAddress],
    ) -> Result<Vec<NetRule>, RequestError> {
        let granted = self.rules(plugin);
        let mut admitted = Vec::with_capacity(requests.len());
        for request in requests {
            let wanted: NetRule = request.parse()?;
            let covered_as_written = granted.iter().any(|g| g.covers(&wanted));
            let covered_everywhere = !instances.is_empty()
                && instances.iter().all(|i| {
                    wanted.expand(i).is_some_and(|w| {
                        granted
                            .iter()
                            .filter_map(|g| g.expand(i))
                            .any(|g| g.covers(&w))
                    })
                });
            if !(covered_as_written || covered_everywhere) {
                return Err(RequestError::NotGranted {
                    plugin: plugin.to_owned(),
                    request: wanted.to_string(),
                    granted: describe(granted),
                });
            }
            admitted.push(wanted);
        }
        Ok(admitted)
    }
}

fn describe(rules: &[NetRule]) -> String {
    if rules.is_empty() {
        return "it has no grants".into();
    }
    let rules: Vec<String> = rules.iter().map(ToString::to_string).collect();
    format!("it has {}", rules.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(flags: &[&str]) -> GrantTable {
        let mut t = GrantTable::default();
        for f in flags {
            t.grant_flag(f).unwrap_or_else(|e| panic!("{e}"));
        }
        t
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_parse_or_say_why() {
        let mut t = GrantTable::default();
        assert!(t.grant_flag("redis=tcp:{host}:6379-6390").is_ok());
        assert!(t.grant_flag("redis=tcp:{host}:6379-6390").is_ok());
        assert_eq!(
            t.rules("redis").len(),
            1,
            "a rule granted twice is kept once"
        );
        for bad in ["redis", "=tcp:x:1", "redis=tcp:x", "redis=https://x:1"] {
            let e = t.grant_flag(bad).expect_err("refused");
            assert!(e.starts_with("--grant"), "{bad}: {e}");
        }
        assert!(t.rules("other").is_empty());
    }

    #[test]
    fn requests_are_admitted_only_when_covered() {
        let t = table(&["redis=tcp:{host}:6379-6390", "redis=dns"]);
        let me = [InstanceAddress {
            host: "localhost".into(),
            port: Some(12913),
        }];
        let ok = t.admit("redis", &strings(&["tcp:{host}:6380", "dns"]), &me);
        assert_eq!(ok.map(|r| r.len()), Ok(2));
        assert_eq!(t.admit("redis", &[], &me), Ok(Vec::new()));
        // Written for this node: covered once {host} is filled in.
        assert!(
            t.admit("redis", &strings(&["tcp:localhost:6379"]), &me)
                .is_ok()
        );
        let e = t
            .admit("redis", &strings(&["tcp:{host}:6400"]), &me)
            .expect_err("refused")
            .to_string();
        assert!(
            e.contains("requests tcp:{host}:6400") && e.contains("--grant redis=tcp:{host}:6400"),
            "{e}"
        );
        let e = t
            .admit("other", &strings(&["dns"]), &me)
            .expect_err("refused")
            .to_string();
        assert!(e.contains("it has no grants"), "{e}");
        let e = t
            .admit("redis", &strings(&["tcp:bad"]), &me)
            .expect_err("refused")
            .to_string();
        assert!(e.contains("does not parse"), "{e}");
    }
}
