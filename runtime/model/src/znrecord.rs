//! [`ZNRecord`], Helix's generic znode payload: an id plus simple, map and list
//! fields, and its field accessors. Serialization lives in [`json`] (Jackson's exact
//! pretty-printed form) and [`codec`] (GZIP and size limits); Helix's three merge
//! operations live in [`merge`].

pub mod codec;
pub mod json;
pub mod merge;

use std::str::FromStr;

use indexmap::IndexMap;

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

    /// Set a simple field (an existing key keeps its position).
    pub fn set_simple(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.simple_fields.insert(key.into(), value.into());
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
        self.map_fields.entry(key.into()).or_default()
    }

    /// Replace a whole map field.
    pub fn set_map_field(&mut self, key: impl Into<String>, value: FieldMap) {
        self.map_fields.insert(key.into(), value);
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
        self.list_fields.entry(key.into()).or_default()
    }

    /// Replace a whole list field.
    pub fn set_list<I, S>(&mut self, key: impl Into<String>, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.list_fields
            .insert(key.into(), values.into_iter().map(Into::into).collect());
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
