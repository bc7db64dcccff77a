//! [`ZNRecord`], Helix's generic znode payload: an id plus simple, map and list
//! fields, and its field accessors. Serialization lives in [`json`] (Jackson's exact
//! pretty-printed form) and [`codec`] (GZIP and size limits); Helix's three merge
//! operations live in [`merge`].

pub mod codec;
pub mod json;
pub mod merge;
mod read;

use std::cmp::Ordering;
use std::str::FromStr;

use indexmap::IndexMap;

use crate::java;

pub use codec::{ENABLE_COMPRESSION_FIELD, LIST_FIELD_BOUND, SIZE_LIMIT, WriteOptions};
pub use merge::{MergeOperation, ZNRecordDelta};

/// A string → string map, as used for simple fields and the inner maps of map fields.
/// Keeps insertion order, like the `LinkedHashMap` Jackson builds when Helix reads.
pub type FieldMap = IndexMap<String, String>;

/// The order in which a record's top-level field maps are written.
///
/// Helix keeps `simpleFields`, `mapFields` and `listFields` in `TreeMap`s when a record
/// is created in code (or wrapped in a typed `HelixProperty`), and in Jackson's
/// insertion-ordered maps when a record is read raw and written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyOrder {
    /// Keys are written sorted (Java `String.compareTo` order), like a `TreeMap`.
    /// The default for records created with [`ZNRecord::new`].
    #[default]
    Sorted,
    /// Keys are written in map order. Records read with [`ZNRecord::from_bytes`] use
    /// this, so writing one back reproduces the bytes that were read.
    Insertion,
}

/// Helix's generic record: the JSON payload of (almost) every znode in a cluster.
///
/// Inner-map and list order is always preserved; top-level key order follows
/// [`ZNRecord::key_order`]. JSON `null` values are read as absent (Java's `get` cannot
/// tell the two apart). Unknown top-level JSON properties are kept in
/// [`ZNRecord::extra`] and written back after the known ones.
#[derive(Debug, Clone, Default)]
pub struct ZNRecord {
    /// The record id (resource, instance, cluster, message id, …).
    pub id: String,
    /// `simpleFields`: key → string value.
    pub simple_fields: FieldMap,
    /// `mapFields`: key → (key → string value).
    pub map_fields: IndexMap<String, FieldMap>,
    /// `listFields`: key → ordered list of strings.
    pub list_fields: IndexMap<String, Vec<String>>,
    /// `rawPayload`: opaque bytes (base64 in JSON); written only when present.
    pub raw_payload: Option<Vec<u8>>,
    /// Top-level JSON properties this model does not know, preserved on round-trip.
    pub extra: IndexMap<String, serde_json::Value>,
    /// How top-level keys are ordered when written.
    pub key_order: KeyOrder,
}

impl ZNRecord {
    /// An empty record with this id, written with sorted keys (like Java's
    /// `new ZNRecord(id)`).
    pub fn new(id: impl Into<String>) -> Self {
        ZNRecord {
            id: id.into(),
            ..ZNRecord::default()
        }
    }

    /// A simple field's value.
    pub fn simple(&self, key: &str) -> Option<&str> {
        self.simple_fields.get(key).map(String::as_str)
    }

    /// Set a simple field. An existing key keeps its position. A new key is appended
    /// when keys are written sorted anyway ([`KeyOrder::Sorted`]), else placed by
    /// [`insert_keeping_order`].
    pub fn set_simple(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let order = self.key_order;
        insert_field(&mut self.simple_fields, order, key.into(), value.into());
    }

    /// Remove a simple field, returning its value.
    pub fn remove_simple(&mut self, key: &str) -> Option<String> {
        self.simple_fields.shift_remove(key)
    }

    /// A simple field parsed as `T` (`None` if absent or unparsable, as Helix's
    /// `getIntField`/`getLongField` fall back to their default).
    pub fn simple_parsed<T: FromStr>(&self, key: &str) -> Option<T> {
        self.simple(key).and_then(|v| v.trim().parse().ok())
    }

    /// A simple field read as a boolean the way Helix's `getBooleanField` does:
    /// `"true"`/`"false"` in any case; anything else is `None`.
    pub fn simple_bool(&self, key: &str) -> Option<bool> {
        parse_java_bool(self.simple(key)?)
    }

    /// A map field (inner map).
    pub fn map(&self, key: &str) -> Option<&FieldMap> {
        self.map_fields.get(key)
    }

    /// A map field for writing, created empty if absent.
    pub fn map_mut(&mut self, key: impl Into<String>) -> &mut FieldMap {
        let key = key.into();
        let index = match self.map_fields.get_index_of(&key) {
            Some(index) => index,
            None => insert_field(&mut self.map_fields, self.key_order, key, FieldMap::new()),
        };
        &mut self.map_fields[index]
    }

    /// Replace a whole map field.
    pub fn set_map_field(&mut self, key: impl Into<String>, value: FieldMap) {
        let order = self.key_order;
        insert_field(&mut self.map_fields, order, key.into(), value);
    }

    /// Remove a whole map field, returning it.
    pub fn remove_map_field(&mut self, key: &str) -> Option<FieldMap> {
        self.map_fields.shift_remove(key)
    }

    /// A list field.
    pub fn list(&self, key: &str) -> Option<&[String]> {
        self.list_fields.get(key).map(Vec::as_slice)
    }

    /// A list field for writing, created empty if absent.
    pub fn list_mut(&mut self, key: impl Into<String>) -> &mut Vec<String> {
        let key = key.into();
        let index = match self.list_fields.get_index_of(&key) {
            Some(index) => index,
            None => insert_field(&mut self.list_fields, self.key_order, key, Vec::new()),
        };
        &mut self.list_fields[index]
    }

    /// Replace a whole list field.
    pub fn set_list<I, S>(&mut self, key: impl Into<String>, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values = values.into_iter().map(Into::into).collect();
        let order = self.key_order;
        insert_field(&mut self.list_fields, order, key.into(), values);
    }

    /// Remove a whole list field, returning it.
    pub fn remove_list(&mut self, key: &str) -> Option<Vec<String>> {
        self.list_fields.shift_remove(key)
    }

    /// Whether the record has no simple, map or list fields and no payload.
    pub fn is_empty(&self) -> bool {
        self.simple_fields.is_empty()
            && self.map_fields.is_empty()
            && self.list_fields.is_empty()
            && self.raw_payload.is_none()
    }

    /// A copy of this record under another id (Java's `new ZNRecord(record, id)`).
    pub fn with_id(&self, id: impl Into<String>) -> Self {
        ZNRecord {
            id: id.into(),
            ..self.clone()
        }
    }
}

/// Equality compares content: id, the three field maps (order-insensitively, like
/// Java's `Map.equals`), payload and unknown properties — not [`KeyOrder`].
impl PartialEq for ZNRecord {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.simple_fields == other.simple_fields
            && self.map_fields == other.map_fields
            && self.list_fields == other.list_fields
            && self.raw_payload == other.raw_payload
            && self.extra == other.extra
    }
}

impl Eq for ZNRecord {}

/// Top-level field insert: cheap append when the record is written sorted anyway.
fn insert_field<V>(map: &mut IndexMap<String, V>, order: KeyOrder, key: String, value: V) -> usize {
    match order {
        KeyOrder::Sorted => map.insert_full(key, value).0,
        KeyOrder::Insertion => insert_keeping_order(map, key, value),
    }
}

/// Insert into an insertion-ordered map the way Helix's maps would place the key: an
/// existing key is updated in place; a new key is appended, unless the map is sorted
/// (Java `String.compareTo` order) and the key belongs earlier — then it goes to its
/// sorted position, as in the `TreeMap` a Helix typed record (or a record created in
/// code) holds. Returns the key's index.
///
/// This keeps written bytes identical to Helix's in the common cases: a message read
/// and marked `read` gets `EXE_SESSION_ID` and `READ_TIMESTAMP` in sorted position,
/// while a current state whose partitions are in arrival order gets new ones appended.
pub fn insert_keeping_order<V>(map: &mut IndexMap<String, V>, key: String, value: V) -> usize {
    if let Some(index) = map.get_index_of(&key) {
        map[index] = value;
        return index;
    }
    let goes_earlier = map
        .last()
        .is_some_and(|(last, _)| java::compare_strings(&key, last) == Ordering::Less);
    let sorted = goes_earlier
        && map
            .keys()
            .zip(map.keys().skip(1))
            .all(|(a, b)| java::compare_strings(a, b) != Ordering::Greater);
    if sorted {
        let index = map
            .keys()
            .position(|k| java::compare_strings(k, &key) == Ordering::Greater)
            .unwrap_or(map.len());
        map.shift_insert(index, key, value);
        index
    } else {
        map.insert_full(key, value).0
    }
}

/// Helix's boolean parse: case-insensitive `true`/`false`, anything else is `None`.
pub fn parse_java_bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        let mut r = ZNRecord::new("r");
        r.set_simple("A", "1");
        r.set_simple("B", "TRUE");
        r.set_simple("C", "x");
        assert_eq!(r.simple("A"), Some("1"));
        assert_eq!(r.simple_parsed::<i32>("A"), Some(1));
        assert_eq!(r.simple_parsed::<i32>("C"), None);
        assert_eq!(r.simple_bool("B"), Some(true));
        assert_eq!(r.simple_bool("C"), None);
        r.map_mut("P").insert("k".into(), "v".into());
        assert_eq!(
            r.map("P").and_then(|m| m.get("k")).map(String::as_str),
            Some("v")
        );
        r.set_list("L", ["a", "b"]);
        assert_eq!(r.list("L"), Some(&["a".to_string(), "b".to_string()][..]));
        assert_eq!(r.remove_simple("A").as_deref(), Some("1"));
        assert!(!r.is_empty());
    }

    #[test]
    fn new_keys_keep_a_sorted_map_sorted_and_append_otherwise() {
        let mut sorted = FieldMap::new();
        for k in ["A", "C", "E"] {
            insert_keeping_order(&mut sorted, k.into(), String::new());
        }
        insert_keeping_order(&mut sorted, "D".into(), String::new());
        insert_keeping_order(&mut sorted, "B".into(), String::new());
        insert_keeping_order(&mut sorted, "C".into(), "x".into());
        assert_eq!(sorted.keys().collect::<Vec<_>>(), ["A", "B", "C", "D", "E"]);
        assert_eq!(sorted["C"], "x");
        // A map already out of order (as read from ZooKeeper) just gets appended to.
        let mut unsorted =
            FieldMap::from([("P2".into(), String::new()), ("P0".into(), String::new())]);
        insert_keeping_order(&mut unsorted, "P1".into(), String::new());
        assert_eq!(unsorted.keys().collect::<Vec<_>>(), ["P2", "P0", "P1"]);
        let mut r = ZNRecord::new("r");
        r.key_order = KeyOrder::Insertion;
        r.map_mut("b").insert("k".into(), "v".into());
        r.map_mut("a");
        r.list_mut("z").push("1".into());
        r.list_mut("y");
        assert_eq!(r.map_fields.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(r.list_fields.keys().collect::<Vec<_>>(), ["y", "z"]);
    }

    #[test]
    fn equality_ignores_order_and_key_order() {
        let mut a = ZNRecord::new("r");
        a.set_simple("x", "1");
        a.set_simple("y", "2");
        let mut b = ZNRecord::new("r");
        b.set_simple("y", "2");
        b.set_simple("x", "1");
        b.key_order = KeyOrder::Insertion;
        assert_eq!(a, b);
    }
}
