//! `inspect_file`, the library side of `strand plugin inspect` / `check`
//! (and, through `HostInspector`, of `strand plugin deploy`): reports, and
//! refusals with one-line reasons — among them a plugin importing an
//! interface the host does not provide.

use strand_devcluster::plugins::names;
use strand_model::plugin::{ComponentInspector, InspectError};
use strand_plugin_host::provided::provides;
use strand_plugin_host::{
    CallOptions, HostInspector, LoadError, PluginOptions, World, inspect_file,
};

use crate::common::{ctx, host, plugin, registry_with};

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

const UNPROVIDED: &str = "acme:inventory/stock@0.1.0";

#[test]
fn an_import_the_host_does_not_provide_is_refused_with_its_name() {
    let host = host();
    let err = inspect_file(&host, &plugin(names::UNPROVIDED_IMPORT), true)
        .expect_err("an unprovided import");
    match &err {
        LoadError::UnprovidedImport { import, provided } => {
            assert_eq!(import, UNPROVIDED);
            assert!(
                provided.contains("wasi:http/{types,outgoing-handler}@0.2.x")
                    && provided.contains("strand:host/{log,clock}@0.1.x"),
                "{provided}"
            );
        }
        other => panic!("expected UnprovidedImport, got {other:?}"),
    }
    let line = err.one_line();
    assert!(
        line.starts_with(&format!(
            "imports {UNPROVIDED}, which this host does not provide (it provides: wasi:cli@0.2.x, "
        )) && !line.contains('\n')
            && !line.contains("matching implementation"),
        "{line}"
    );

    // `strand plugin deploy` validates through the inspector: same reason.
    match HostInspector::new(host).inspect_component(
        "stocked",
        &std::fs::read(plugin(names::UNPROVIDED_IMPORT)).expect("read"),
    ) {
        Err(InspectError::Invalid(reason)) => assert_eq!(reason, line),
        other => panic!("expected the deployment to be refused, got {other:?}"),
    }
}

#[test]
fn a_candidate_with_an_unprovided_import_leaves_the_running_version_serving() {
    let registry = registry_with("ms", names::MASTER_SLAVE, PluginOptions::default());
    let model = registry.state_model("ms").expect("state model");
    let err = registry
        .install_file(
            "ms",
            &plugin(names::UNPROVIDED_IMPORT),
            PluginOptions::default(),
        )
        .expect_err("refused");
    assert!(
        matches!(&err.error, LoadError::UnprovidedImport { import, .. } if import == UNPROVIDED),
        "{err}"
    );
    assert_eq!(model.version().version, "0.1.0");
    let out = model
        .transition(&ctx("db_0", "OFFLINE", "SLAVE"), &CallOptions::default())
        .expect("the running version keeps serving");
    assert_eq!(out.note, "MasterSlave 0.1.0: OFFLINE->SLAVE");
}

#[test]
fn the_host_provides_every_import_of_the_real_plugins() {
    let host = host();
    for name in [
        names::MASTER_SLAVE,
        names::HTTP_NOTIFY,
        names::ROUTING_PROBE,
        names::PARTITION_SUMMARY,
    ] {
        let report = inspect_file(&host, &plugin(name), false).expect("inspect");
        for import in &report.imports {
            assert!(
                provides(report.world, import) || import.starts_with("strand:aggregator/types@"),
                "{name}: {import} is not in the host's table"
            );
        }
    }
    // Polyglot components import more of WASI (and wasi:http when asked).
    let polyglot = crate::polyglot::host();
    for name in [names::PY_HTTP_NOTIFY, names::JS_HTTP_NOTIFY] {
        let report =
            inspect_file(&polyglot, &crate::polyglot::compiled(name), false).expect("inspect");
        assert!(
            report
                .imports
                .iter()
                .any(|i| i.starts_with("wasi:http/outgoing-handler@0.2.")),
            "{name}: {:?}",
            report.imports
        );
        for import in &report.imports {
            assert!(provides(World::StateModel, import), "{name}: {import}");
        }
    }
}

#[test]
fn only_plugins_that_call_http_import_wasi_http() {
    let host = host();
    let imports = |name| {
        inspect_file(&host, &plugin(name), false)
            .expect("inspect")
            .imports
    };
    let http = imports(names::HTTP_NOTIFY);
    assert!(
        http.iter()
            .any(|i| i.starts_with("wasi:http/outgoing-handler@")),
        "{http:?}"
    );
    // The SDK's `http` feature is on in the plugins workspace (http-notify
    // enables it), yet a plugin that sends no request imports none of it.
    for name in [
        names::MASTER_SLAVE,
        names::ONLINE_OFFLINE,
        names::ROUTING_PROBE,
    ] {
        let imports = imports(name);
        assert!(
            !imports.iter().any(|i| i.starts_with("wasi:http/")),
            "{name}: {imports:?}"
        );
    }
}
