//! `inspect_file`, the library side of `strand plugin inspect` / `check`.

use strand_devcluster::plugins::names;
use strand_plugin_host::{LoadError, World, inspect_file};

use crate::common::{host, plugin};

#[test]
fn inspect_reports_world_versions_and_definition() {
    let report = inspect_file(&host(), &plugin(names::MASTER_SLAVE), true).expect("inspect");
    assert_eq!(report.world, World::StateModel);
    assert!(
        report
            .exports
            .contains(&"strand:statemodel/model@0.1.0".to_owned()),
        "{:?}",
        report.exports
    );
    assert!(
        report
            .imports
            .contains(&"strand:statemodel/customized-state@0.1.0".to_owned())
    );
    assert_eq!(
        report.definition.map(|d| d.name).as_deref(),
        Some("MasterSlave")
    );

    let agg = inspect_file(&host(), &plugin(names::PARTITION_SUMMARY), true).expect("inspect");
    assert_eq!(agg.world, World::Aggregator);
    assert_eq!(
        agg.aggregator.map(|a| a.name).as_deref(),
        Some("partition-summary")
    );
}

#[test]
fn check_refuses_misfits_with_one_line_reasons() {
    let host = host();
    let err = inspect_file(&host, &plugin(names::WRONG_WORLD), true).expect_err("wrong world");
    assert!(matches!(err, LoadError::IncompatibleVersion { .. }));
    assert!(
        err.one_line().contains("strand:statemodel/model@0.2.0"),
        "{}",
        err.one_line()
    );

    let err = inspect_file(&host, &plugin(names::FAULTY_DEFINITION), true)
        .expect_err("trapping definition");
    assert!(matches!(err, LoadError::Describe(_)), "{err}");
    assert!(!err.one_line().contains('\n'));

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("x.wasm");
    std::fs::write(&path, b"hello").expect("write");
    assert!(matches!(
        inspect_file(&host, &path, true),
        Err(LoadError::NotAComponent(_))
    ));
}
