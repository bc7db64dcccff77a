//! Fixture loading shared by the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

use strand_model::ZNRecord;

/// The fixtures folder.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Raw bytes of one fixture.
pub fn bytes(name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A fixture parsed as a ZNRecord.
pub fn record(name: &str) -> ZNRecord {
    match ZNRecord::from_bytes(&bytes(name)) {
        Ok(Some(record)) => record,
        other => panic!("{name}: expected a record, got {other:?}"),
    }
}

/// Names of every JSON fixture copied from the Helix dump.
pub fn json_fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}
