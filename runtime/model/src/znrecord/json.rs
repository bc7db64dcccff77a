//! ZNRecord ⇄ JSON exactly as Helix's `ZNRecordSerializer` (Jackson 1, default pretty
//! printer) reads and writes it.
//!
//! Output: properties `id`, `simpleFields`, `mapFields`, `listFields`, then
//! `rawPayload` (base64, only when set) and any unknown properties kept from a read;
//! 2-space indentation, `" : "` between key and value, `{ }` for an empty object,
//! arrays on one line as `[ "a", "b" ]` (`[ ]` when empty), no trailing newline, and
//! Jackson's string escaping (`\uXXXX` with upper-case hex, non-ASCII left as UTF-8).
//!
//! Input is lenient like Jackson's: properties in any order, missing maps are empty,
//! scalar values are taken as their text, and `null` values are dropped.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::{FieldMap, KeyOrder, ZNRecord};
use crate::error::ModelError;
use crate::java;

const ID: &str = "id";
const SIMPLE_FIELDS: &str = "simpleFields";
const MAP_FIELDS: &str = "mapFields";
const LIST_FIELDS: &str = "listFields";
const RAW_PAYLOAD: &str = "rawPayload";

impl ZNRecord {
    /// Parse (uncompressed) ZNRecord JSON. The result keeps the JSON's key order
    /// ([`KeyOrder::Insertion`]).
    pub fn from_json(json: &[u8]) -> Result<ZNRecord, ModelError> {
        super::read::from_json(json)
    }

    /// Build a record from an already parsed JSON value.
    pub fn from_value(value: Value) -> Result<ZNRecord, ModelError> {
        let Value::Object(object) = value else {
            return Err(not_a_record(format!(
                "top-level value is {}, expected an object",
                kind(&value)
            )));
        };
        let mut record = ZNRecord {
            key_order: KeyOrder::Insertion,
            ..ZNRecord::default()
        };
        let mut has_id = false;
        for (key, value) in object {
            match key.as_str() {
                ID => {
                    record.id = scalar_text(&value)
                        .ok_or_else(|| not_a_record(format!("id is {}", kind(&value))))?;
                    has_id = true;
                }
                SIMPLE_FIELDS => record.simple_fields = string_map(value, SIMPLE_FIELDS)?,
                MAP_FIELDS => {
                    for (k, inner) in object_entries(value, MAP_FIELDS)? {
                        if inner.is_null() {
                            continue;
                        }
                        let inner = string_map(inner, &format!("{MAP_FIELDS}.{k}"))?;
                        record.map_fields.insert(k, inner);
                    }
                }
                LIST_FIELDS => {
                    for (k, list) in object_entries(value, LIST_FIELDS)? {
                        match list {
                            Value::Null => {}
                            Value::Array(items) => {
                                let mut out = Vec::with_capacity(items.len());
                                for item in &items {
                                    if item.is_null() {
                                        continue;
                                    }
                                    out.push(scalar_text(item).ok_or_else(|| {
                                        not_a_record(format!(
                                            "{LIST_FIELDS}.{k} holds {}, expected strings",
                                            kind(item)
                                        ))
                                    })?);
                                }
                                record.list_fields.insert(k, out);
                            }
                            other => {
                                return Err(not_a_record(format!(
                                    "{LIST_FIELDS}.{k} is {}, expected an array",
                                    kind(&other)
                                )));
                            }
                        }
                    }
                }
                RAW_PAYLOAD => match value {
                    Value::Null => {}
                    Value::String(text) => {
                        record.raw_payload = Some(base64::decode(&text).ok_or_else(|| {
                            not_a_record("rawPayload is not valid base64".to_string())
                        })?);
                    }
                    other => {
                        return Err(not_a_record(format!(
                            "rawPayload is {}, expected a base64 string",
                            kind(&other)
                        )));
                    }
                },
                _ => {
                    record.extra.insert(key, value);
                }
            }
        }
        if !has_id {
            return Err(not_a_record("no \"id\" property".to_string()));
        }
        Ok(record)
    }

    /// The record as a JSON value (top-level keys ordered per [`KeyOrder`]).
    pub fn to_value(&self) -> Value {
        let mut object = Map::new();
        object.insert(ID.into(), Value::String(self.id.clone()));
        let simple: Map<String, Value> = self
            .ordered(&self.simple_fields)
            .into_iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        object.insert(SIMPLE_FIELDS.into(), Value::Object(simple));
        let maps: Map<String, Value> = self
            .ordered(&self.map_fields)
            .into_iter()
            .map(|(k, inner)| {
                let inner: Map<String, Value> = inner
                    .iter()
                    .map(|(ik, iv)| (ik.clone(), Value::String(iv.clone())))
                    .collect();
                (k.clone(), Value::Object(inner))
            })
            .collect();
        object.insert(MAP_FIELDS.into(), Value::Object(maps));
        let bound = self.list_bound();
        let lists: Map<String, Value> = self
            .ordered(&self.list_fields)
            .into_iter()
            .map(|(k, list)| {
                let items = list
                    .iter()
                    .take(bound)
                    .map(|s| Value::String(s.clone()))
                    .collect();
                (k.clone(), Value::Array(items))
            })
            .collect();
        object.insert(LIST_FIELDS.into(), Value::Object(lists));
        if let Some(payload) = &self.raw_payload {
            object.insert(RAW_PAYLOAD.into(), Value::String(base64::encode(payload)));
        }
        for (k, v) in &self.extra {
            object.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Value::Object(object)
    }

    /// The uncompressed JSON bytes exactly as Helix's serializer writes them
    /// (the same bytes as pretty-printing [`ZNRecord::to_value`], written
    /// straight from the record without building a JSON value first).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.estimated_json_len());
        out.push(b'{');
        newline_indent(1, &mut out);
        write_string(ID, &mut out);
        out.extend_from_slice(b" : ");
        write_string(&self.id, &mut out);
        write_property(SIMPLE_FIELDS, &mut out);
        write_string_map(self.ordered(&self.simple_fields), 1, &mut out);
        write_property(MAP_FIELDS, &mut out);
        write_object(
            self.ordered(&self.map_fields),
            1,
            &mut out,
            |(key, inner), out| {
                write_string(key, out);
                out.extend_from_slice(b" : ");
                write_string_map(inner, 2, out);
            },
        );
        write_property(LIST_FIELDS, &mut out);
        let bound = self.list_bound();
        write_object(
            self.ordered(&self.list_fields),
            1,
            &mut out,
            |(key, list), out| {
                write_string(key, out);
                out.extend_from_slice(b" : ");
                write_string_list(list.iter().take(bound), out);
            },
        );
        if let Some(payload) = &self.raw_payload {
            write_property(RAW_PAYLOAD, &mut out);
            write_string(&base64::encode(payload), &mut out);
        }
        for (key, value) in &self.extra {
            let known = matches!(key.as_str(), ID | SIMPLE_FIELDS | MAP_FIELDS | LIST_FIELDS)
                || (key == RAW_PAYLOAD && self.raw_payload.is_some());
            if !known {
                write_property(key, &mut out);
                write_pretty(value, 1, &mut out);
            }
        }
        newline_indent(0, &mut out);
        out.push(b'}');
        out
    }

    /// A guess of the encoded size, so that encoding allocates once or twice.
    fn estimated_json_len(&self) -> usize {
        let field = |(k, v): (&String, &String)| k.len() + v.len() + 16;
        let simple: usize = self.simple_fields.iter().map(field).sum();
        let maps: usize = self
            .map_fields
            .iter()
            .map(|(k, inner)| k.len() + 16 + inner.iter().map(field).sum::<usize>())
            .sum();
        let lists: usize = self
            .list_fields
            .iter()
            .map(|(k, list)| k.len() + 16 + list.iter().map(|v| v.len() + 4).sum::<usize>())
            .sum();
        128 + self.id.len() + simple + maps + lists
    }

    /// The uncompressed JSON as a string.
    pub fn to_json_string(&self) -> String {
        String::from_utf8_lossy(&self.to_json_bytes()).into_owned()
    }

    /// Entries of a top-level map in write order.
    fn ordered<'a, V>(&self, map: &'a IndexMap<String, V>) -> Vec<(&'a String, &'a V)> {
        let mut entries: Vec<_> = map.iter().collect();
        if self.key_order == KeyOrder::Sorted {
            entries.sort_by(|a, b| java::compare_strings(a.0, b.0));
        }
        entries
    }

    /// Helix's `listField.bound`: list fields are truncated to this many entries when
    /// written (unparsable or negative values mean no bound).
    fn list_bound(&self) -> usize {
        self.simple(super::LIST_FIELD_BOUND)
            .and_then(|v| v.parse::<i32>().ok())
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(usize::MAX)
    }
}

impl serde::Serialize for ZNRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for ZNRecord {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::read::deserialize(deserializer)
    }
}

fn not_a_record(reason: String) -> ModelError {
    ModelError::NotAZnRecord(reason)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Jackson reads any scalar token into a `String` field as its text.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// The entries of an object-valued property (`null` counts as empty).
fn object_entries(value: Value, what: &str) -> Result<Map<String, Value>, ModelError> {
    match value {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        other => Err(not_a_record(format!(
            "{what} is {}, expected an object",
            kind(&other)
        ))),
    }
}

fn string_map(value: Value, what: &str) -> Result<FieldMap, ModelError> {
    let mut out = FieldMap::new();
    for (k, v) in object_entries(value, what)? {
        if v.is_null() {
            continue;
        }
        let text = scalar_text(&v).ok_or_else(|| {
            not_a_record(format!("{what}.{k} is {}, expected a string", kind(&v)))
        })?;
        out.insert(k, text);
    }
    Ok(out)
}

/// Jackson 1 `DefaultPrettyPrinter`: objects indent by two spaces per enclosing
/// object; arrays stay on one line (their indenter is inline and adds no nesting).
fn write_pretty(value: &Value, nesting: usize, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            out.push(b'{');
            if map.is_empty() {
                out.extend_from_slice(b" }");
                return;
            }
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline_indent(nesting + 1, out);
                write_string(k, out);
                out.extend_from_slice(b" : ");
                write_pretty(v, nesting + 1, out);
            }
            newline_indent(nesting, out);
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            if items.is_empty() {
                out.extend_from_slice(b" ]");
                return;
            }
            for (i, item) in items.iter().enumerate() {
                out.extend_from_slice(if i > 0 { b", " } else { b" " });
                write_pretty(item, nesting, out);
            }
            out.extend_from_slice(b" ]");
        }
        Value::String(s) => write_string(s, out),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Null => out.extend_from_slice(b"null"),
    }
}

/// `,` and the next top-level property's key.
fn write_property(key: &str, out: &mut Vec<u8>) {
    out.push(b',');
    newline_indent(1, out);
    write_string(key, out);
    out.extend_from_slice(b" : ");
}

/// An object of `entries` at `nesting`, each written by `entry`, laid out as
/// [`write_pretty`] lays out an object.
fn write_object<T>(
    entries: impl IntoIterator<Item = T>,
    nesting: usize,
    out: &mut Vec<u8>,
    mut entry: impl FnMut(T, &mut Vec<u8>),
) {
    out.push(b'{');
    let mut empty = true;
    for item in entries {
        if !empty {
            out.push(b',');
        }
        newline_indent(nesting + 1, out);
        entry(item, out);
        empty = false;
    }
    if empty {
        out.extend_from_slice(b" }");
    } else {
        newline_indent(nesting, out);
        out.push(b'}');
    }
}

fn write_string_map<'a>(
    entries: impl IntoIterator<Item = (&'a String, &'a String)>,
    nesting: usize,
    out: &mut Vec<u8>,
) {
    write_object(entries, nesting, out, |(key, value), out| {
        write_string(key, out);
        out.extend_from_slice(b" : ");
        write_string(value, out);
    });
}

/// An array on one line, as [`write_pretty`] writes one.
fn write_string_list<'a>(items: impl Iterator<Item = &'a String>, out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        out.extend_from_slice(if i > 0 { b", " } else { b" " });
        write_string(item, out);
    }
    out.extend_from_slice(b" ]");
}

fn newline_indent(level: usize, out: &mut Vec<u8>) {
    out.push(b'\n');
    out.resize(out.len() + 2 * level, b' ');
}

/// Jackson's escaping: `"` and `\` escaped, control characters as `\b \t \n \f \r`
/// or `\u00XX` (upper-case hex); everything else, including non-ASCII, as UTF-8.
fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Copy runs that need no escaping in one go (most strings are one run).
    let mut run = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escaped: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0x00..=0x1f => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ],
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        out.extend_from_slice(escaped);
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Standard base64 with padding (Jackson's default `MIME_NO_LINEFEEDS` variant).
pub(super) mod base64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    /// Decode, ignoring whitespace; `None` on any other invalid input.
    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(text.len() / 4 * 3);
        let mut acc: u32 = 0;
        let mut bits = 0;
        let mut padding = 0;
        for c in text.bytes() {
            if c.is_ascii_whitespace() {
                continue;
            }
            if c == b'=' {
                padding += 1;
                continue;
            }
            if padding > 0 {
                return None;
            }
            let v = ALPHABET.iter().position(|&a| a == c)? as u32;
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        (padding <= 2).then_some(out)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn round_trip() {
            for input in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
                let encoded = super::encode(input);
                assert_eq!(super::decode(&encoded).as_deref(), Some(input));
            }
            assert_eq!(super::encode(b"foobar"), "Zm9vYmFy");
            assert_eq!(super::encode(b"fo"), "Zm8=");
            assert_eq!(super::decode("Zm8*"), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_record_matches_helix() {
        let r = ZNRecord::new("DEMO_");
        assert_eq!(
            r.to_json_string(),
            "{\n  \"id\" : \"DEMO_\",\n  \"simpleFields\" : { },\n  \"mapFields\" : { },\n  \"listFields\" : { }\n}"
        );
    }

    #[test]
    fn layout_of_every_kind_of_field() {
        let mut r = ZNRecord::new("x");
        r.set_simple("b", "2");
        r.set_simple("a", "1");
        r.map_mut("P").insert("k".into(), "v".into());
        r.set_map_field("E", FieldMap::new());
        r.set_list("L", ["a", "b"]);
        r.set_list("M", Vec::<String>::new());
        r.raw_payload = Some(b"hi".to_vec());
        let expected = r#"{
  "id" : "x",
  "simpleFields" : {
    "a" : "1",
    "b" : "2"
  },
  "mapFields" : {
    "E" : { },
    "P" : {
      "k" : "v"
    }
  },
  "listFields" : {
    "L" : [ "a", "b" ],
    "M" : [ ]
  },
  "rawPayload" : "aGk="
}"#;
        assert_eq!(r.to_json_string(), expected);
        let back = ZNRecord::from_json(expected.as_bytes()).expect("parses");
        assert_eq!(back, r);
        assert_eq!(back.to_json_string(), expected);
    }

    #[test]
    fn escaping_like_jackson() {
        let mut r = ZNRecord::new("q\"\\\n\t\u{1}é/");
        r.key_order = KeyOrder::Insertion;
        let json = r.to_json_string();
        assert!(json.contains(r#""id" : "q\"\\\n\t\u0001é/""#), "{json}");
        assert_eq!(
            ZNRecord::from_json(json.as_bytes()).expect("parses").id,
            r.id
        );
    }

    #[test]
    fn unknown_properties_survive() {
        let input = r#"{"extraObj":{"a":[1,{"b":null}]},"id":"x","simpleFields":{"k":"v"},"n":5}"#;
        let r = ZNRecord::from_json(input.as_bytes()).expect("parses");
        assert_eq!(r.extra.len(), 2);
        let again = ZNRecord::from_json(&r.to_json_bytes()).expect("reparses");
        assert_eq!(again, r);
        assert!(r.to_json_string().ends_with(
            "  \"extraObj\" : {\n    \"a\" : [ 1, {\n      \"b\" : null\n    } ]\n  },\n  \"n\" : 5\n}"
        ));
    }

    #[test]
    fn lenient_like_jackson() {
        let input = r#"{"listFields":{"L":["a",null,3]},"id":7,
            "simpleFields":{"n":1,"b":true,"z":null},"mapFields":{"P":{"x":null,"y":"1"},"Q":null}}"#;
        let r = ZNRecord::from_json(input.as_bytes()).expect("parses");
        assert_eq!(r.id, "7");
        assert_eq!(r.simple("n"), Some("1"));
        assert_eq!(r.simple("b"), Some("true"));
        assert_eq!(r.simple("z"), None);
        assert_eq!(r.map("P").map(|m| m.len()), Some(1));
        assert!(r.map("Q").is_none());
        assert_eq!(r.list("L").map(<[String]>::len), Some(2));
    }

    #[test]
    fn the_direct_writer_matches_pretty_printing_the_value() {
        let input = r#"{"zExtra":{"a":[1,{"b":null}]},"id":"r\u0001\"","mapFields":{"p_1":{"B":"2","A":"1"},"p_0":{}},"listFields":{"z":["x","y"],"e":[]},"simpleFields":{"listField.bound":"1","b":"é","a":"\n"},"rawPayload":"AAEC","n":5}"#;
        let read = ZNRecord::from_json(input.as_bytes()).expect("parses");
        let mut sorted = read.clone();
        sorted.key_order = KeyOrder::Sorted;
        let mut empty = ZNRecord::new("e");
        empty.extra.insert("mapFields".into(), Value::Bool(true));
        empty.extra.insert("rawPayload".into(), Value::Bool(true));
        for record in [read, sorted, empty, ZNRecord::default()] {
            let mut expected = Vec::new();
            write_pretty(&record.to_value(), 0, &mut expected);
            assert_eq!(
                String::from_utf8_lossy(&record.to_json_bytes()),
                String::from_utf8_lossy(&expected)
            );
        }
    }

    #[test]
    fn reading_straight_matches_reading_through_a_value() {
        let inputs = [
            r#"{"listFields":{"L":["a",null,3,1.5,-2,true]},"id":7,"simpleFields":{"n":1e3,"b":true,"z":null},"mapFields":{"P":{"x":null,"y":"1"},"Q":null},"x":[{"a":1}],"rawPayload":"AAEC"}"#,
            r#"{"id":"a","id":"b","simpleFields":{"k":"1","k":"2"},"simpleFields":{"j":"3"}}"#,
            r#"{"id":"x","simpleFields":null,"mapFields":null,"listFields":null,"rawPayload":null}"#,
            r#"{"id":"x\u00e9\n","simpleFields":{"\"q\"":"\\"}}"#,
            r#"{"id":null}"#,
            r#"{"id":[1]}"#,
            r#"{"id":"x","simpleFields":"no"}"#,
            r#"{"id":"x","simpleFields":{"k":[]}}"#,
            r#"{"id":"x","mapFields":{"P":[]}}"#,
            r#"{"id":"x","mapFields":{"P":{"k":{}}}}"#,
            r#"{"id":"x","listFields":{"L":"a"}}"#,
            r#"{"id":"x","listFields":{"L":[{}]}}"#,
            r#"{"id":"x","rawPayload":5}"#,
            r#"{"id":"x","rawPayload":"!!"}"#,
            r#"{"simpleFields":{}}"#,
            r#"[1]"#,
            r#""text""#,
        ];
        for input in inputs {
            let through_value = serde_json::from_str::<Value>(input)
                .map_err(ModelError::from)
                .and_then(ZNRecord::from_value);
            let straight = ZNRecord::from_json(input.as_bytes());
            match (through_value, straight) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "{input}");
                    assert_eq!(a.to_json_bytes(), b.to_json_bytes(), "{input}");
                }
                (Err(ModelError::NotAZnRecord(_)), Err(ModelError::NotAZnRecord(why))) => {
                    // Callers match on what was expected (the REST API's errors).
                    let expected = [
                        "expected an object",
                        "expected an array",
                        "expected a string",
                        "expected strings",
                        "no \"id\"",
                        "base64",
                        "id is",
                    ];
                    assert!(expected.iter().any(|e| why.contains(e)), "{input}: {why}");
                }
                (a, b) => panic!("{input}: {a:?} / {b:?}"),
            }
        }
    }

    #[test]
    fn list_field_bound_truncates_on_write() {
        let mut r = ZNRecord::new("x");
        r.set_simple("listField.bound", "1");
        r.set_list("L", ["a", "b", "c"]);
        assert!(r.to_json_string().contains("\"L\" : [ \"a\" ]"));
        assert_eq!(r.list("L").map(<[String]>::len), Some(3));
    }

    #[test]
    fn malformed_input_errors() {
        assert!(matches!(
            ZNRecord::from_json(b"{\"id\":"),
            Err(ModelError::MalformedJson(_))
        ));
        assert!(matches!(
            ZNRecord::from_json(b"[1]"),
            Err(ModelError::NotAZnRecord(_))
        ));
        assert!(matches!(
            ZNRecord::from_json(b"{\"simpleFields\":{}}"),
            Err(ModelError::NotAZnRecord(_))
        ));
        assert!(matches!(
            ZNRecord::from_json(br#"{"id":"x","simpleFields":[]}"#),
            Err(ModelError::NotAZnRecord(_))
        ));
        assert!(matches!(
            ZNRecord::from_json(br#"{"id":"x","mapFields":{"P":{"k":{}}}}"#),
            Err(ModelError::NotAZnRecord(_))
        ));
        assert!(matches!(
            ZNRecord::from_json(br#"{"id":"x","rawPayload":"!!"}"#),
            Err(ModelError::NotAZnRecord(_))
        ));
    }
}
