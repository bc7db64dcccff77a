//! [`SessionId`]: a ZooKeeper session id written the way Helix writes it — lowercase
//! hex without `0x` (Java `Long.toHexString`), e.g. `1000021f98d000a`.

use std::fmt;
use std::str::FromStr;

use crate::error::ModelError;

/// A ZooKeeper session id. Displays as Helix writes it (lowercase hex, no `0x`, no
/// leading zeros; a negative Java `long` shows as its 16-digit two's complement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

impl SessionId {
    /// From the signed 64-bit id ZooKeeper clients report.
    pub fn from_i64(id: i64) -> Self {
        SessionId(id as u64)
    }

    /// The id as a signed 64-bit value.
    pub fn as_i64(self) -> i64 {
        self.0 as i64
    }

    /// Parse Helix's hex form (an optional `0x` prefix and upper case are accepted).
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        u64::from_str_radix(digits, 16)
            .map(SessionId)
            .map_err(|_| ModelError::InvalidValue {
                field: "session id".into(),
                value: text.into(),
                expected: "a hexadecimal ZooKeeper session id",
            })
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}", self.0)
    }
}

impl FromStr for SessionId {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SessionId::parse(s)
    }
}

impl From<u64> for SessionId {
    fn from(id: u64) -> Self {
        SessionId(id)
    }
}

impl From<i64> for SessionId {
    fn from(id: i64) -> Self {
        SessionId::from_i64(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_long_to_hex_string() {
        assert_eq!(SessionId(0x1000021f98d000a).to_string(), "1000021f98d000a");
        assert_eq!(SessionId::from_i64(-1).to_string(), "ffffffffffffffff");
        assert_eq!(SessionId(0).to_string(), "0");
    }

    #[test]
    fn parses_hex() {
        assert_eq!(
            "1000021f98d000e".parse::<SessionId>().ok(),
            Some(SessionId(0x1000021f98d000e))
        );
        assert_eq!(SessionId::parse("0xABC").ok(), Some(SessionId(0xabc)));
        assert_eq!(
            SessionId::parse("ffffffffffffffff")
                .map(SessionId::as_i64)
                .ok(),
            Some(-1)
        );
        assert!(matches!(
            SessionId::parse("12g"),
            Err(ModelError::InvalidValue { .. })
        ));
        assert!(SessionId::parse("").is_err());
    }
}
