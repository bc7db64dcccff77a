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

/// A UTC time stamp as `StatusUpdateUtil` writes it into status-update
/// and error map keys: `yyyyMMdd-HHmmss.SSSSSS` (Java's `SSSSSS` is the
/// milliseconds, zero-padded to six digits).
pub fn status_update_time(ms: i64) -> String {
    crate::records::history::format_utc(ms, crate::records::history::DateStyle::StatusUpdate)
}

#[cfg(test)]
mod tests {
    #[test]
    fn now_is_after_2020() {
        assert!(super::now_ms() > 1_577_836_800_000);
    }

    #[test]
    fn status_update_time_pads_milliseconds_like_java() {
        assert_eq!(
            super::status_update_time(1_795_303_251_082),
            "20261121-232051.000082"
        );
    }
}
