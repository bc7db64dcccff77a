//! The plugin record `PLUGINS/<name>` ([`PluginRecord`]): the plugin's
//! kind, its active version and every deployed version ([`VersionEntry`]),
//! and [`Deployment`], the view of one version the API returns.

use serde::{Deserialize, Serialize};
use strand_model::plugin::{PluginDescription, StateModelSpec};
use strand_model::{FieldMap, ZNRecord};

/// Record keys.
mod keys {
    pub const KIND: &str = "KIND";
    pub const ACTIVE_VERSION: &str = "ACTIVE_VERSION";
    pub const VERSIONS: &str = "VERSIONS";
    pub const SHA256: &str = "SHA256";
    pub const SIZE: &str = "SIZE";
    pub const STORED_SIZE: &str = "STORED_SIZE";
    pub const DEPLOYED_AT: &str = "DEPLOYED_AT";
    pub const DEPLOYED_BY: &str = "DEPLOYED_BY";
    pub const ACTIVATED_AT: &str = "ACTIVATED_AT";
    pub const FORCED: &str = "FORCED";
    pub const DEFINITION: &str = "DEFINITION";
    pub const REQUESTS: &str = "REQUESTS";
}

/// What a plugin is, from the world its component targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginKind {
    /// A state model (`strand:plugins/state-model`).
    StateModel,
    /// A customized-view aggregator (`strand:plugins/aggregator`).
    Aggregator,
}

impl PluginKind {
    /// The spelling in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StateModel => "STATE_MODEL",
            Self::Aggregator => "AGGREGATOR",
        }
    }

    /// Parses the record's spelling.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "STATE_MODEL" => Some(Self::StateModel),
            "AGGREGATOR" => Some(Self::Aggregator),
            _ => None,
        }
    }
}

impl From<&PluginDescription> for PluginKind {
    fn from(description: &PluginDescription) -> Self {
        match description {
            PluginDescription::StateModel(_) => Self::StateModel,
            PluginDescription::Aggregator(_) => Self::Aggregator,
        }
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::StateModel => "state-model",
            Self::Aggregator => "aggregator",
        })
    }
}

/// One deployed version of a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionEntry {
    /// The version string the component reports.
    pub version: String,
    /// The artefact's SHA-256.
    pub sha256: String,
    /// The component's size in bytes.
    pub size: u64,
    /// What its artefact holds in ZooKeeper (compressed); `None` in
    /// records written before compression.
    pub stored_size: Option<u64>,
    /// When it was deployed (ms since the epoch).
    pub deployed_at_ms: i64,
    /// Who deployed it.
    pub deployed_by: String,
    /// When it last became the active version (ms since the epoch).
    pub activated_at_ms: i64,
    /// Deployed with `force` (participants accept any definition change).
    pub forced: bool,
    /// A state model's definition, as the component reports it.
    pub definition: Option<StateModelSpec>,
    /// The network capabilities the deployment requests
    /// (`strand plugin deploy --request`, rules such as `tcp:{host}:6379`);
    /// a participant loads the version only if its own grants cover every
    /// one. Map key `REQUESTS`, a JSON list, absent when empty (records
    /// written before it read as no requests).
    pub requests: Vec<String>,
}

impl VersionEntry {
    fn to_map(&self) -> FieldMap {
        let mut m = FieldMap::new();
        m.insert(keys::SHA256.into(), self.sha256.clone());
        m.insert(keys::SIZE.into(), self.size.to_string());
        if let Some(stored) = self.stored_size {
            m.insert(keys::STORED_SIZE.into(), stored.to_string());
        }
        m.insert(keys::DEPLOYED_AT.into(), self.deployed_at_ms.to_string());
        m.insert(keys::DEPLOYED_BY.into(), self.deployed_by.clone());
        m.insert(keys::ACTIVATED_AT.into(), self.activated_at_ms.to_string());
        m.insert(keys::FORCED.into(), self.forced.to_string());
        if let Some(d) = &self.definition
            && let Ok(json) = serde_json::to_string(d)
        {
            m.insert(keys::DEFINITION.into(), json);
        }
        if !self.requests.is_empty()
            && let Ok(json) = serde_json::to_string(&self.requests)
        {
            m.insert(keys::REQUESTS.into(), json);
        }
        m
    }

    fn from_map(version: &str, m: &FieldMap) -> Result<Self, String> {
        let field = |k: &str| {
            m.get(k)
                .cloned()
                .ok_or_else(|| format!("version {version} lacks {k}"))
        };
        let number = |k: &str| -> Result<i64, String> {
            field(k)?
                .parse()
                .map_err(|_| format!("version {version}: {k} is not a number"))
        };
        let definition = match m.get(keys::DEFINITION) {
            Some(json) => Some(
                serde_json::from_str(json)
                    .map_err(|e| format!("version {version}: bad DEFINITION: {e}"))?,
            ),
            None => None,
        };
        let requests = match m.get(keys::REQUESTS) {
            Some(json) => serde_json::from_str(json)
                .map_err(|e| format!("version {version}: bad REQUESTS: {e}"))?,
            None => Vec::new(),
        };
        Ok(Self {
            version: version.to_owned(),
            sha256: field(keys::SHA256)?,
            size: u64::try_from(number(keys::SIZE)?).unwrap_or(0),
            stored_size: m.get(keys::STORED_SIZE).and_then(|v| v.parse().ok()),
            deployed_at_ms: number(keys::DEPLOYED_AT)?,
            deployed_by: m.get(keys::DEPLOYED_BY).cloned().unwrap_or_default(),
            activated_at_ms: number(keys::ACTIVATED_AT).unwrap_or(0),
            forced: m.get(keys::FORCED).is_some_and(|f| f == "true"),
            definition,
            requests,
        })
    }
}

/// The record of one plugin: kind, active version, every version in
/// deploy order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRecord {
    /// The plugin's name (the record id).
    pub name: String,
    /// Its kind.
    pub kind: PluginKind,
    /// The version participants should run.
    pub active: Option<String>,
    /// Every deployed version, oldest first.
    pub versions: Vec<VersionEntry>,
}

impl PluginRecord {
    /// A plugin with no versions yet.
    pub fn new(name: &str, kind: PluginKind) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            active: None,
            versions: Vec::new(),
        }
    }

    /// The version entry named `version`.
    pub fn version(&self, version: &str) -> Option<&VersionEntry> {
        self.versions.iter().find(|v| v.version == version)
    }

    /// The active version's entry.
    pub fn active_entry(&self) -> Option<&VersionEntry> {
        self.active.as_deref().and_then(|v| self.version(v))
    }

    /// Adds `entry` (replacing a version of the same name, which keeps its
    /// place) and makes it active.
    pub fn activate_new(&mut self, entry: VersionEntry) {
        self.active = Some(entry.version.clone());
        match self
            .versions
            .iter_mut()
            .find(|v| v.version == entry.version)
        {
            Some(old) => *old = entry,
            None => self.versions.push(entry),
        }
    }

    /// Applies a retention policy: keeps the active version and the
    /// `previous` most recently active others (deploy order unchanged), and
    /// returns the entries it dropped.
    pub fn retain_recent(&mut self, previous: usize) -> Vec<VersionEntry> {
        let mut others: Vec<(i64, String)> = self
            .versions
            .iter()
            .filter(|v| Some(&v.version) != self.active.as_ref())
            .map(|v| (v.activated_at_ms.max(v.deployed_at_ms), v.version.clone()))
            .collect();
        others.sort_by(|a, b| b.cmp(a));
        let dropped: Vec<String> = others.into_iter().skip(previous).map(|(_, v)| v).collect();
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.versions)
            .into_iter()
            .partition(|v| dropped.contains(&v.version));
        self.versions = kept;
        gone
    }

    /// The entry for `version` or, when `version` is not a version name,
    /// the one whose SHA-256 starts with it (at least 8 hex digits, and
    /// only when that is unambiguous).
    pub fn resolve(&self, version: &str) -> Option<&VersionEntry> {
        self.version(version).or_else(|| {
            if version.len() < 8 {
                return None;
            }
            let mut found = self
                .versions
                .iter()
                .filter(|v| v.sha256.starts_with(version));
            match (found.next(), found.next()) {
                (Some(one), None) => Some(one),
                _ => None,
            }
        })
    }

    /// The view of `entry` the API returns.
    pub fn deployment(&self, entry: &VersionEntry) -> Deployment {
        Deployment {
            name: self.name.clone(),
            kind: self.kind,
            version: entry.version.clone(),
            sha256: entry.sha256.clone(),
            size_bytes: entry.size,
            stored_bytes: entry.stored_size,
            deployed_at_ms: entry.deployed_at_ms,
            deployed_by: entry.deployed_by.clone(),
            activated_at_ms: entry.activated_at_ms,
            forced: entry.forced,
            active: self.active.as_deref() == Some(entry.version.as_str()),
            definition: entry.definition.clone(),
            requests: entry.requests.clone(),
        }
    }

    /// The record as a ZNRecord.
    pub fn to_znrecord(&self) -> ZNRecord {
        let mut r = ZNRecord::new(self.name.as_str());
        r.set_simple(keys::KIND, self.kind.as_str());
        if let Some(active) = &self.active {
            r.set_simple(keys::ACTIVE_VERSION, active.as_str());
        }
        r.set_list(
            keys::VERSIONS,
            self.versions.iter().map(|v| v.version.as_str()),
        );
        for v in &self.versions {
            r.set_map_field(v.version.as_str(), v.to_map());
        }
        r
    }

    /// Parses a ZNRecord written by [`PluginRecord::to_znrecord`].
    ///
    /// # Errors
    /// What is missing or malformed.
    pub fn from_znrecord(r: &ZNRecord) -> Result<Self, String> {
        let kind = r
            .simple(keys::KIND)
            .and_then(PluginKind::parse)
            .ok_or_else(|| format!("plugin {}: no valid KIND", r.id))?;
        let versions = r
            .list(keys::VERSIONS)
            .unwrap_or_default()
            .iter()
            .map(|v| {
                let map = r
                    .map(v)
                    .ok_or_else(|| format!("plugin {}: version {v} has no map", r.id))?;
                VersionEntry::from_map(v, map).map_err(|e| format!("plugin {}: {e}", r.id))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            name: r.id.clone(),
            kind,
            active: r.simple(keys::ACTIVE_VERSION).map(str::to_owned),
            versions,
        })
    }
}

/// One deployed version of a plugin, as the API (CLI `--json`, REST)
/// returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    /// The plugin's name.
    pub name: String,
    /// Its kind.
    pub kind: PluginKind,
    /// The version string the component reports.
    pub version: String,
    /// The artefact's SHA-256.
    pub sha256: String,
    /// The component's size in bytes.
    pub size_bytes: u64,
    /// What its artefact holds in ZooKeeper (compressed), when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_bytes: Option<u64>,
    /// When it was deployed (ms since the epoch).
    pub deployed_at_ms: i64,
    /// Who deployed it.
    pub deployed_by: String,
    /// When it last became active (ms since the epoch).
    pub activated_at_ms: i64,
    /// Deployed with `force`.
    pub forced: bool,
    /// Whether it is the active version.
    pub active: bool,
    /// A state model's definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<StateModelSpec>,
    /// The network capabilities it requests.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: &str, sha: &str) -> VersionEntry {
        VersionEntry {
            version: version.into(),
            sha256: sha.into(),
            size: 10,
            stored_size: Some(4),
            deployed_at_ms: 1,
            deployed_by: "me".into(),
            activated_at_ms: 2,
            forced: false,
            definition: None,
            requests: Vec::new(),
        }
    }

    #[test]
    fn record_round_trips_and_keeps_deploy_order() {
        let mut r = PluginRecord::new("MasterSlave", PluginKind::StateModel);
        r.activate_new(entry("0.2.0", "bbbbbbbbbbbb"));
        r.activate_new(entry("0.1.0", "aaaaaaaaaaaa"));
        let back = PluginRecord::from_znrecord(&r.to_znrecord()).expect("parses");
        assert_eq!(back, r);
        assert_eq!(back.active.as_deref(), Some("0.1.0"));
        let order: Vec<&str> = back.versions.iter().map(|v| v.version.as_str()).collect();
        assert_eq!(order, ["0.2.0", "0.1.0"]);
    }

    #[test]
    fn redeploying_a_version_replaces_it_in_place() {
        let mut r = PluginRecord::new("p", PluginKind::Aggregator);
        r.activate_new(entry("1", "aaaaaaaaaaaa"));
        r.activate_new(entry("2", "bbbbbbbbbbbb"));
        r.activate_new(entry("1", "cccccccccccc"));
        assert_eq!(r.versions.len(), 2);
        assert_eq!(r.versions[0].sha256, "cccccccccccc");
        assert_eq!(r.active.as_deref(), Some("1"));
    }

    #[test]
    fn resolve_takes_a_version_or_an_unambiguous_hash_prefix() {
        let mut r = PluginRecord::new("p", PluginKind::StateModel);
        r.activate_new(entry("1", "abcdef0123"));
        r.activate_new(entry("2", "abcdef9999"));
        assert_eq!(
            r.resolve("2").map(|v| v.sha256.as_str()),
            Some("abcdef9999")
        );
        assert_eq!(r.resolve("abcdef01").map(|v| v.version.as_str()), Some("1"));
        assert!(r.resolve("abcdef").is_none(), "too short");
        assert!(r.resolve("abcdef9").is_none(), "too short");
        assert!(r.resolve("3").is_none());
    }

    #[test]
    fn retention_keeps_the_active_and_the_most_recently_active_others() {
        let mut r = PluginRecord::new("p", PluginKind::StateModel);
        for (i, v) in ["1", "2", "3", "4"].iter().enumerate() {
            let mut e = entry(v, &format!("{v}{v}{v}{v}{v}{v}{v}{v}"));
            e.activated_at_ms = 10 + i64::try_from(i).unwrap_or(0);
            r.activate_new(e);
        }
        // Roll back to 1: it becomes the most recently active.
        let mut again = r.version("1").cloned().expect("1");
        again.activated_at_ms = 100;
        r.activate_new(again);
        let gone = r.retain_recent(2);
        let kept: Vec<&str> = r.versions.iter().map(|v| v.version.as_str()).collect();
        assert_eq!(kept, ["1", "3", "4"]);
        assert_eq!(
            gone.iter().map(|v| v.version.as_str()).collect::<Vec<_>>(),
            ["2"]
        );
        assert!(r.retain_recent(2).is_empty(), "idempotent");
        r.retain_recent(0);
        assert_eq!(r.versions.len(), 1);
        assert_eq!(r.active.as_deref(), Some("1"));
    }

    #[test]
    fn a_record_without_kind_is_refused() {
        let r = ZNRecord::new("x");
        assert!(PluginRecord::from_znrecord(&r).is_err());
    }
}
