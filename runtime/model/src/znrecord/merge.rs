//! Helix's three ways of combining records — `update`, `merge` and `subtract` — and
//! the delta list (`ZNRecordDelta`) that group-committed current-state writes use.

use super::ZNRecord;

/// How a [`ZNRecordDelta`] is applied (Helix's `ZNRecordDelta.MergeOperation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeOperation {
    /// [`ZNRecord::merge`].
    Add,
    /// [`ZNRecord::subtract`].
    Subtract,
    /// [`ZNRecord::update`].
    Update,
}

/// A change to apply to a record (Helix's `ZNRecordDelta`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZNRecordDelta {
    /// The operand.
    pub record: ZNRecord,
    /// How to apply it.
    pub operation: MergeOperation,
}

impl ZNRecordDelta {
    /// A delta applying `record` with `operation`.
    pub fn new(record: ZNRecord, operation: MergeOperation) -> Self {
        ZNRecordDelta { record, operation }
    }
}

impl ZNRecord {
    /// Helix `update`: top-level replace per key. Simple fields are overwritten, and
    /// each map or list field present in `other` replaces ours whole.
    pub fn update(&mut self, other: &ZNRecord) {
        for (k, v) in &other.simple_fields {
            self.simple_fields.insert(k.clone(), v.clone());
        }
        for (k, v) in &other.list_fields {
            self.list_fields.insert(k.clone(), v.clone());
        }
        for (k, v) in &other.map_fields {
            self.map_fields.insert(k.clone(), v.clone());
        }
    }

    /// Helix `merge`: simple fields overwritten; each inner map merged key by key
    /// (created if absent); each list field **appended** to ours (so duplicates are
    /// possible, as in Helix).
    pub fn merge(&mut self, other: &ZNRecord) {
        for (k, v) in &other.simple_fields {
            self.simple_fields.insert(k.clone(), v.clone());
        }
        for (k, inner) in &other.map_fields {
            let ours = self.map_fields.entry(k.clone()).or_default();
            for (ik, iv) in inner {
                ours.insert(ik.clone(), iv.clone());
            }
        }
        for (k, list) in &other.list_fields {
            self.list_fields
                .entry(k.clone())
                .or_default()
                .extend(list.iter().cloned());
        }
    }

    /// Helix `subtract`: removes every simple and list key present in `other`; for
    /// each map field in `other`, removes the listed inner keys from ours and drops
    /// our inner map once it is empty.
    ///
    /// Helix marks "remove the whole map field" with a `null` inner map, which a Rust
    /// record cannot hold; here an **empty** inner map in `other` plays that role
    /// (see [`ZNRecord::removal_of`]).
    pub fn subtract(&mut self, other: &ZNRecord) {
        for k in other.simple_fields.keys() {
            self.simple_fields.shift_remove(k);
        }
        for k in other.list_fields.keys() {
            self.list_fields.shift_remove(k);
        }
        for (k, inner) in &other.map_fields {
            if inner.is_empty() {
                self.map_fields.shift_remove(k);
                continue;
            }
            if let Some(ours) = self.map_fields.get_mut(k) {
                for ik in inner.keys() {
                    ours.shift_remove(ik);
                }
                if ours.is_empty() {
                    self.map_fields.shift_remove(k);
                }
            }
        }
    }

    /// A subtract operand removing whole map fields (Helix: `mapFields[key] = null`),
    /// e.g. a partition dropped from a current state.
    pub fn removal_of<I, S>(id: impl Into<String>, map_keys: I) -> ZNRecord
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut record = ZNRecord::new(id);
        for key in map_keys {
            record.map_fields.insert(key.into(), Default::default());
        }
        record
    }

    /// Apply one delta.
    pub fn apply_delta(&mut self, delta: &ZNRecordDelta) {
        match delta.operation {
            MergeOperation::Add => self.merge(&delta.record),
            MergeOperation::Subtract => self.subtract(&delta.record),
            MergeOperation::Update => self.update(&delta.record),
        }
    }

    /// Apply deltas in order.
    pub fn apply_deltas<'a, I>(&mut self, deltas: I)
    where
        I: IntoIterator<Item = &'a ZNRecordDelta>,
    {
        for delta in deltas {
            self.apply_delta(delta);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::FieldMap;
    use super::*;

    fn base() -> ZNRecord {
        let mut r = ZNRecord::new("r");
        r.set_simple("s1", "a");
        r.set_simple("s2", "b");
        r.map_mut("P0").insert("i1".into(), "ONLINE".into());
        r.map_mut("P0").insert("i2".into(), "OFFLINE".into());
        r.map_mut("P1").insert("i1".into(), "ONLINE".into());
        r.set_list("L", ["x", "y"]);
        r
    }

    fn other() -> ZNRecord {
        let mut o = ZNRecord::new("o");
        o.set_simple("s2", "B");
        o.set_simple("s3", "c");
        o.map_mut("P0").insert("i2".into(), "ONLINE".into());
        o.map_mut("P2").insert("i3".into(), "ONLINE".into());
        o.set_list("L", ["y", "z"]);
        o.set_list("M", ["m"]);
        o
    }

    fn inner(r: &ZNRecord, k: &str) -> Vec<(String, String)> {
        r.map(k)
            .map(|m| m.iter().map(|(a, b)| (a.clone(), b.clone())).collect())
            .unwrap_or_default()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn update_replaces_whole_values() {
        let mut r = base();
        r.update(&other());
        assert_eq!(r.id, "r");
        assert_eq!(r.simple("s1"), Some("a"));
        assert_eq!(r.simple("s2"), Some("B"));
        assert_eq!(r.simple("s3"), Some("c"));
        assert_eq!(inner(&r, "P0"), pairs(&[("i2", "ONLINE")]));
        assert_eq!(inner(&r, "P1"), pairs(&[("i1", "ONLINE")]));
        assert_eq!(r.list("L"), Some(&["y".to_string(), "z".to_string()][..]));
        assert!(r.list("M").is_some());
    }

    #[test]
    fn merge_merges_maps_and_appends_lists() {
        let mut r = base();
        r.merge(&other());
        assert_eq!(r.simple("s2"), Some("B"));
        assert_eq!(
            inner(&r, "P0"),
            pairs(&[("i1", "ONLINE"), ("i2", "ONLINE")])
        );
        assert_eq!(inner(&r, "P2"), pairs(&[("i3", "ONLINE")]));
        let l: Vec<&str> = r
            .list("L")
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(l, ["x", "y", "y", "z"]);
        // New keys are appended (LinkedHashMap behaviour).
        let keys: Vec<&str> = r.map_fields.keys().map(String::as_str).collect();
        assert_eq!(keys, ["P0", "P1", "P2"]);
    }

    #[test]
    fn subtract_removes_keys_and_empty_maps() {
        let mut r = base();
        let mut o = ZNRecord::new("o");
        o.set_simple("s1", "ignored");
        o.set_list("L", Vec::<String>::new());
        o.map_mut("P0").insert("i1".into(), String::new());
        o.map_mut("P1").insert("i1".into(), String::new());
        o.map_mut("P9").insert("i1".into(), String::new());
        r.subtract(&o);
        assert_eq!(r.simple("s1"), None);
        assert_eq!(r.simple("s2"), Some("b"));
        assert!(r.list("L").is_none());
        assert_eq!(inner(&r, "P0"), pairs(&[("i2", "OFFLINE")]));
        assert!(r.map("P1").is_none(), "emptied inner map is dropped");
        assert!(r.map("P9").is_none());
    }

    #[test]
    fn subtract_whole_map_field() {
        let mut r = base();
        r.subtract(&ZNRecord::removal_of("r", ["P0"]));
        assert!(r.map("P0").is_none());
        assert!(r.map("P1").is_some());
    }

    #[test]
    fn deltas_apply_in_order() {
        let mut r = base();
        let mut add = ZNRecord::new("r");
        add.set_map_field("P5", FieldMap::from([("i".to_string(), "S".to_string())]));
        r.apply_deltas(&[
            ZNRecordDelta::new(add, MergeOperation::Add),
            ZNRecordDelta::new(ZNRecord::removal_of("r", ["P0"]), MergeOperation::Subtract),
            ZNRecordDelta::new(other(), MergeOperation::Update),
        ]);
        assert!(r.map("P5").is_some());
        assert_eq!(inner(&r, "P0"), pairs(&[("i2", "ONLINE")]));
    }
}
