//! ZNRecord against the bytes of a real Helix 2.0.1 cluster: every fixture reads and
//! writes back byte for byte; GZIP copies read transparently.

mod common;

use strand_model::ZNRecord;

#[test]
fn every_fixture_round_trips_byte_for_byte() {
    let names = common::json_fixture_names();
    assert!(names.len() >= 50, "fixtures missing: {names:?}");
    for name in names {
        let original = common::bytes(&name);
        let record = common::record(&name);
        let written = record.to_bytes().expect("fits");
        assert_eq!(
            String::from_utf8_lossy(&written),
            String::from_utf8_lossy(&original),
            "{name} did not round-trip"
        );
        // And a second generation is stable.
        let again = common::record(&name);
        assert_eq!(again, record);
    }
}

#[test]
fn gzip_fixtures_decompress_transparently() {
    for (gz, plain) in [
        (
            "gzip__java__CURRENTSTATE__OODB.gz",
            "B__INSTANCES__localhost_12001__CURRENTSTATES__1000021f98d000a__OODB.json",
        ),
        (
            "gzip__python__IDEALSTATES__TestDB.gz",
            "B__IDEALSTATES__TestDB.json",
        ),
    ] {
        let compressed = common::bytes(gz);
        assert_eq!(&compressed[..2], &[0x1f, 0x8b]);
        let record = match ZNRecord::from_bytes(&compressed) {
            Ok(Some(r)) => r,
            other => panic!("{gz}: {other:?}"),
        };
        assert_eq!(record, common::record(plain));
        assert_eq!(record.to_json_bytes(), common::bytes(plain), "{gz}");
    }
}

#[test]
fn new_records_are_written_with_sorted_keys_like_helix() {
    // A LiveInstance built in code, fields set out of order, equals Helix's bytes.
    let mut r = ZNRecord::new("localhost_12001");
    r.set_simple("SESSION_ID", "1000021f98d000a");
    r.set_simple("LIVE_INSTANCE", "22831@vm");
    r.set_simple("HELIX_VERSION", "2.0.1");
    r.set_simple("CURRENT_TASK_THREAD_POOL_SIZE", "40");
    assert_eq!(
        r.to_bytes().expect("fits"),
        common::bytes("B__LIVEINSTANCES__localhost_12001.json")
    );
}
