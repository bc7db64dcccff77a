//! Key/value maps as the WIT carries them (`list<tuple<string, string>>`):
//! resource configs, customized states, views. Lookups are linear, which is
//! what a handful of keys calls for.

/// The value of the first `key` in `pairs`.
pub(crate) fn lookup<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A map read from the host, e.g. a partition's customized state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        lookup(&self.0, key)
    }

    /// Every entry, in the order the host gave them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries themselves.
    pub fn into_vec(self) -> Vec<(String, String)> {
        self.0
    }
}

impl From<Vec<(String, String)>> for Fields {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_value_of_a_key() {
        let pairs = vec![
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "3".to_string()),
        ];
        assert_eq!(lookup(&pairs, "a"), Some("1"));
        assert_eq!(lookup(&pairs, "c"), None);
        let fields = Fields::from(pairs);
        assert_eq!(fields.get("b"), Some("2"));
        assert_eq!(fields.len(), 3);
    }
}
