//! Reading ZNRecord JSON straight into a [`ZNRecord`], without building a
//! JSON value first (a current state of a thousand partitions is read on
//! every change of it). Lenient exactly like [`ZNRecord::from_value`]
//! (Jackson's reading): properties in any order, missing or `null` maps are
//! empty, scalars are taken as their text, `null` values are dropped,
//! unknown properties are kept in [`ZNRecord::extra`].

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{FieldMap, KeyOrder, ZNRecord, json};
use crate::error::ModelError;

const ID: &str = "id";
const SIMPLE_FIELDS: &str = "simpleFields";
const MAP_FIELDS: &str = "mapFields";
const LIST_FIELDS: &str = "listFields";
const RAW_PAYLOAD: &str = "rawPayload";

/// Parses (uncompressed) ZNRecord JSON; structural problems are
/// [`ModelError::NotAZnRecord`], syntax errors [`ModelError::MalformedJson`].
pub(super) fn from_json(bytes: &[u8]) -> Result<ZNRecord, ModelError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let record = deserialize(&mut deserializer).and_then(|record| {
        deserializer.end()?;
        Ok(record)
    });
    record.map_err(|err| match err.classify() {
        serde_json::error::Category::Data => ModelError::NotAZnRecord(err.to_string()),
        _ => ModelError::MalformedJson(err),
    })
}

/// Deserializes a record from any serde data format.
pub(super) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<ZNRecord, D::Error> {
    deserializer.deserialize_map(RecordVisitor)
}

/// A scalar as Jackson reads it into a `String` field, or what it is not.
enum Scalar {
    Text(String),
    /// A number or boolean, as its text (named for the error where only a
    /// string will do).
    Coerced(String, &'static str),
    Null,
    /// An array or an object (named for the error).
    Other(&'static str),
}

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Coerced(v.to_string(), "a boolean"))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Coerced(v.to_string(), "a number"))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Coerced(v.to_string(), "a number"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        // The text serde_json's `Value` gives the number (what the value
        // path of `ZNRecord::from_value` keeps).
        let text = serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string());
        Ok(Scalar::Coerced(text, "a number"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("an object"))
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = ZNRecord;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ZNRecord, A::Error> {
        let mut record = ZNRecord {
            key_order: KeyOrder::Insertion,
            ..ZNRecord::default()
        };
        let mut has_id = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                ID => match map.next_value::<Scalar>()? {
                    Scalar::Text(id) | Scalar::Coerced(id, _) => {
                        record.id = id;
                        has_id = true;
                    }
                    Scalar::Null => return Err(de::Error::custom("id is null")),
                    Scalar::Other(kind) => return Err(de::Error::custom(format!("id is {kind}"))),
                },
                SIMPLE_FIELDS => {
                    record.simple_fields = map
                        .next_value_seed(StringMap {
                            parent: SIMPLE_FIELDS,
                            key: None,
                        })?
                        .unwrap_or_default();
                }
                MAP_FIELDS => record.map_fields = map.next_value_seed(MapFields)?,
                LIST_FIELDS => record.list_fields = map.next_value_seed(ListFields)?,
                RAW_PAYLOAD => {
                    record.raw_payload = match map.next_value::<Scalar>()? {
                        Scalar::Null => None,
                        Scalar::Text(text) => {
                            Some(json::base64::decode(&text).ok_or_else(|| {
                                de::Error::custom("rawPayload is not valid base64")
                            })?)
                        }
                        Scalar::Other(kind) | Scalar::Coerced(_, kind) => {
                            return Err(de::Error::custom(format!(
                                "rawPayload is {kind}, expected a base64 string"
                            )));
                        }
                    };
                }
                _ => {
                    let value: Value = map.next_value()?;
                    record.extra.insert(key, value);
                }
            }
        }
        if !has_id {
            return Err(de::Error::custom("no \"id\" property"));
        }
        Ok(record)
    }
}

/// A string → string object (`None` for `null`), named for errors as
/// `parent` or `parent.key`.
struct StringMap<'a> {
    parent: &'static str,
    key: Option<&'a str>,
}

impl StringMap<'_> {
    fn name(&self) -> String {
        match self.key {
            Some(key) => format!("{}.{key}", self.parent),
            None => self.parent.to_owned(),
        }
    }
}

impl<'de> DeserializeSeed<'de> for StringMap<'_> {
    type Value = Option<FieldMap>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringMap<'_> {
    type Value = Option<FieldMap>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object ({})", self.name())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = FieldMap::new();
        while let Some(key) = map.next_key::<String>()? {
            match map.next_value::<Scalar>()? {
                Scalar::Text(text) | Scalar::Coerced(text, _) => {
                    out.insert(key, text);
                }
                Scalar::Null => {}
                Scalar::Other(kind) => {
                    return Err(de::Error::custom(format!(
                        "{}.{key} is {kind}, expected a string",
                        self.name()
                    )));
                }
            }
        }
        Ok(Some(out))
    }
}

/// `mapFields`: partition (or other key) → string map; `null` inner maps
/// are dropped.
struct MapFields;

impl<'de> DeserializeSeed<'de> for MapFields {
    type Value = indexmap::IndexMap<String, FieldMap>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MapFields {
    type Value = indexmap::IndexMap<String, FieldMap>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object ({MAP_FIELDS})")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Self::Value::new())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Self::Value::new();
        while let Some(key) = map.next_key::<String>()? {
            let inner = map.next_value_seed(StringMap {
                parent: MAP_FIELDS,
                key: Some(&key),
            })?;
            if let Some(inner) = inner {
                out.insert(key, inner);
            }
        }
        Ok(out)
    }
}

/// `listFields`: key → list of strings; `null` lists and items are dropped.
struct ListFields;

impl<'de> DeserializeSeed<'de> for ListFields {
    type Value = indexmap::IndexMap<String, Vec<String>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListFields {
    type Value = indexmap::IndexMap<String, Vec<String>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object ({LIST_FIELDS})")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Self::Value::new())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Self::Value::new();
        while let Some(key) = map.next_key::<String>()? {
            if let Some(list) = map.next_value_seed(StringList { key: &key })? {
                out.insert(key, list);
            }
        }
        Ok(out)
    }
}

struct StringList<'a> {
    key: &'a str,
}

impl<'de> DeserializeSeed<'de> for StringList<'_> {
    type Value = Option<Vec<String>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringList<'_> {
    type Value = Option<Vec<String>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array ({LIST_FIELDS}.{})", self.key)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<Scalar>()? {
            match item {
                Scalar::Text(text) | Scalar::Coerced(text, _) => out.push(text),
                Scalar::Null => {}
                Scalar::Other(kind) => {
                    return Err(de::Error::custom(format!(
                        "{LIST_FIELDS}.{} holds {kind}, expected strings",
                        self.key
                    )));
                }
            }
        }
        Ok(Some(out))
    }
}
