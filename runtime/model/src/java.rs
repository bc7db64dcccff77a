//! Java behaviour that leaks into Helix's bytes: `String.hashCode`, the iteration
//! order of a default `java.util.HashMap`, and `String.compareTo` (UTF-16 order,
//! which is what a `TreeMap<String, _>` sorts by).
//!
//! Helix writes some maps from `HashMap`s (for example the `.next` tables of state
//! model definitions), so reproducing its bytes exactly needs its iteration order.

use std::cmp::Ordering;

use indexmap::IndexMap;

/// Java's `String.hashCode()`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units,
/// with 32-bit wrapping arithmetic.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// Java's `String.compareTo`: lexicographic over UTF-16 code units. Differs from
/// Rust's `str` ordering only for characters outside the Basic Multilingual Plane.
pub fn compare_strings(a: &str, b: &str) -> Ordering {
    // UTF-8 byte order is code point order, which is UTF-16 order up to the
    // first difference unless that difference involves a supplementary
    // character (4-byte UTF-8, lead byte 0xF0 or more): compare bytes, and
    // fall back to UTF-16 only then.
    let common = a
        .bytes()
        .zip(b.bytes())
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let differs_in_supplementary = |s: &str| {
        s.as_bytes()
            .get(common.saturating_sub(3)..)
            .is_some_and(|tail| tail.iter().take(4).any(|&byte| byte >= 0xF0))
    };
    if differs_in_supplementary(a) || differs_in_supplementary(b) {
        a.encode_utf16().cmp(b.encode_utf16())
    } else {
        a.as_bytes().cmp(b.as_bytes())
    }
}

/// The order in which a `new java.util.HashMap<String, _>()` iterates its keys after
/// they were `put` in `insertion_order` (duplicates keep their first position).
///
/// Models Java 8+'s table: capacity 16, doubled whenever the size exceeds 3/4 of it,
/// bucket index `(h ^ (h >>> 16)) & (capacity - 1)`, buckets visited in index order
/// and entries within a bucket in insertion order. (Tree bins, which only appear when
/// one bucket holds 8+ keys, are not modelled.)
pub fn hashmap_order<'a, I>(insertion_order: I) -> Vec<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut keys: Vec<&'a str> = Vec::new();
    for key in insertion_order {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let mut capacity: usize = 16;
    while keys.len() * 4 > capacity * 3 {
        capacity *= 2;
    }
    let bucket = |key: &str| {
        let h = string_hash(key) as u32;
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    // A stable sort keeps insertion order within a bucket.
    keys.sort_by_key(|k| bucket(k));
    keys
}

/// A string map laid out in the order a `new HashMap<String, String>()` filled with
/// `entries` (in that order) iterates — i.e. the order Jackson writes it in.
pub fn hashmap_of<K, V, I>(entries: I) -> IndexMap<String, String>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    let entries: Vec<(String, String)> = entries
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    let order: Vec<String> = hashmap_order(entries.iter().map(|(k, _)| k.as_str()))
        .into_iter()
        .map(str::to_string)
        .collect();
    let mut values: IndexMap<String, String> = entries.into_iter().collect();
    order
        .into_iter()
        .filter_map(|k| values.shift_remove(&k).map(|v| (k, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        // "hello".hashCode() == 99162322 in Java.
        assert_eq!(string_hash("hello"), 99_162_322);
        // Overflow wraps: "polygenelubricants".hashCode() == Integer.MIN_VALUE.
        assert_eq!(string_hash("polygenelubricants"), i32::MIN);
    }

    #[test]
    fn compare_is_utf16_order() {
        assert_eq!(compare_strings("A", "B"), Ordering::Less);
        // U+FF21 (BMP) sorts after U+1F600 in UTF-8/code-point order but before it in UTF-16.
        assert_eq!(compare_strings("\u{FF21}", "\u{1F600}"), Ordering::Greater);
        assert_eq!("\u{FF21}".cmp("\u{1F600}"), Ordering::Less);
        let utf16 = |a: &str, b: &str| a.encode_utf16().cmp(b.encode_utf16());
        let samples = [
            "",
            "a",
            "ab",
            "b",
            "db_10",
            "db_9",
            "é",
            "\u{FF21}",
            "\u{1F600}",
            "x\u{1F600}",
            "x\u{FF21}",
            "\u{1F600}a",
            "\u{1F600}b",
            "\u{1F601}",
            "x\u{10000}y",
            "x\u{E000}",
        ];
        for a in samples {
            for b in samples {
                assert_eq!(compare_strings(a, b), utf16(a, b), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn hashmap_order_matches_helix_dump() {
        // MasterSlaveSMD puts SLAVE, OFFLINE, DROPPED; Helix wrote SLAVE, DROPPED, OFFLINE.
        assert_eq!(
            hashmap_order(["SLAVE", "OFFLINE", "DROPPED"]),
            ["SLAVE", "DROPPED", "OFFLINE"]
        );
        // CustomizedStateProvider puts CURRENT_STATE then START_TIME; Helix wrote
        // START_TIME first.
        let m = hashmap_of([("CURRENT_STATE", "X"), ("START_TIME", "1")]);
        assert_eq!(
            m.keys().collect::<Vec<_>>(),
            ["START_TIME", "CURRENT_STATE"]
        );
    }
}
