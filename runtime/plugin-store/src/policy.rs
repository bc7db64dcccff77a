//! [`StoragePolicy`]: how much of ZooKeeper a cluster's plugins may use —
//! how many earlier versions each plugin keeps besides its active one, and
//! the budget of artefact bytes the store may hold. Kept in
//! `/<C>/PROPERTYSTORE/STRAND/POLICY` (simple fields `RETAINED_VERSIONS`,
//! `BUDGET_BYTES`); a cluster without the record has the defaults.
//!
//! ZooKeeper keeps every byte in memory (and in every snapshot), so the
//! budget is what sizes its heap; the README says how much heap a budget
//! needs, measured.

use serde::Serialize;
use strand_model::ZNRecord;

/// Earlier versions kept per plugin besides the active one (enough for
/// `rollback` twice).
pub const DEFAULT_RETAINED_VERSIONS: usize = 2;
/// The default budget: 64 MiB of stored (compressed) artefacts — about ten
/// versions of a Python component.
pub const DEFAULT_BUDGET_BYTES: u64 = 64 << 20;

mod keys {
    pub const RETAINED_VERSIONS: &str = "RETAINED_VERSIONS";
    pub const BUDGET_BYTES: &str = "BUDGET_BYTES";
}

/// The plugin storage policy of one cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StoragePolicy {
    /// Earlier versions each plugin keeps besides its active one (the most
    /// recently active first); older ones are removed on the next deploy
    /// or `gc`.
    pub retained_versions: usize,
    /// The most artefact bytes (as stored, compressed) the store may hold;
    /// a deploy that would go over it is refused.
    pub budget_bytes: u64,
}

impl Default for StoragePolicy {
    fn default() -> Self {
        Self {
            retained_versions: DEFAULT_RETAINED_VERSIONS,
            budget_bytes: DEFAULT_BUDGET_BYTES,
        }
    }
}

impl StoragePolicy {
    /// The record (id `POLICY`).
    pub fn to_record(&self) -> ZNRecord {
        let mut r = ZNRecord::new("POLICY");
        r.set_simple(keys::RETAINED_VERSIONS, self.retained_versions.to_string());
        r.set_simple(keys::BUDGET_BYTES, self.budget_bytes.to_string());
        r
    }

    /// Reads the record; a missing or malformed field keeps its default
    /// (and is reported, so a typo is not silently a policy).
    pub fn from_record(r: &ZNRecord) -> (Self, Vec<String>) {
        let mut policy = Self::default();
        let mut problems = Vec::new();
        match r.simple(keys::RETAINED_VERSIONS).map(str::parse::<usize>) {
            Some(Ok(n)) => policy.retained_versions = n,
            Some(Err(_)) => problems.push(format!("{} is not a count", keys::RETAINED_VERSIONS)),
            None => {}
        }
        match r.simple(keys::BUDGET_BYTES).map(str::parse::<u64>) {
            Some(Ok(n)) => policy.budget_bytes = n,
            Some(Err(_)) => problems.push(format!("{} is not a byte count", keys::BUDGET_BYTES)),
            None => {}
        }
        (policy, problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_defaults_for_bad_fields() {
        let p = StoragePolicy {
            retained_versions: 0,
            budget_bytes: 10,
        };
        assert_eq!(StoragePolicy::from_record(&p.to_record()), (p, Vec::new()));
        let mut r = ZNRecord::new("POLICY");
        r.set_simple(keys::BUDGET_BYTES, "lots");
        let (read, problems) = StoragePolicy::from_record(&r);
        assert_eq!(read, StoragePolicy::default());
        assert_eq!(problems.len(), 1);
    }
}
