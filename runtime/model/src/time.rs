//! Wall-clock time stamps as Helix writes them: milliseconds since the
//! Unix epoch (`CREATE_TIMESTAMP`, `START_TIME`, history entries, …).

/// Milliseconds since the Unix epoch; 0 if the clock is before 1970 and
/// `i64::MAX` far beyond any real date.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn now_is_after_2020() {
        assert!(super::now_ms() > 1_577_836_800_000);
    }
}
