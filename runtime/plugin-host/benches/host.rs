//! Criterion benchmarks of the plugin host with the real master-slave plugin:
//!
//! * `transition/host` vs `transition/bare`: one transition through
//!   `StateModelHandle::transition` against a bare wasmtime typed call on a
//!   reused instance of the same component (the host's overhead);
//! * `instantiate/from_pre`: a fresh store + instantiation from the typed
//!   pre-instantiated component (what a call costs without the pool);
//! * `load/cached_artefact`: `PluginHost::compile` on a cache hit (sha256 of
//!   the bytes + mmap of the `.cwasm`);
//! * `swap/install` (a whole hot swap of a cached candidate: load, type
//!   check, definition, compare, canary, swap) and `swap/pointer` (the
//!   pointer exchange alone);
//! * `polyglot/{transition,instantiate,cached_load}/{rust,python,js}`: the
//!   MasterSlave model in Rust, Python (componentize-py) and JavaScript
//!   (componentize-js) side by side: a transition through the host on a
//!   pooled instance, a fresh instantiation from the pre-instantiated
//!   component, and `PluginHost::compile` on a cache hit (the persistent
//!   `strand_devcluster::plugins::compiled_cache_dir()`, so the 10–30 s compile
//!   of the big components happens once per machine).
//!
//! Run: `cargo bench -p strand-plugin-host --bench host` (add
//! `-- polyglot` for the language comparison only).

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_plugin_host::{
    CallOptions, HostConfig, PluginHost, PluginOptions, PluginRegistry, TransitionContext, raw,
};

fn ctx() -> TransitionContext {
    TransitionContext {
        cluster: "c1".into(),
        instance: "host_12000".into(),
        resource: "db".into(),
        partition: "db_0".into(),
        from_state: "OFFLINE".into(),
        to_state: "SLAVE".into(),
        message_id: "m-1".into(),
        config: Vec::new(),
    }
}

fn benches(c: &mut Criterion) {
    let cache = tempfile::tempdir().expect("temp dir");
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(cache.path().to_owned()),
        ..HostConfig::default()
    })
    .expect("host");
    let v1 = std::fs::read(plugin_path(names::MASTER_SLAVE).expect("plugin")).expect("read");
    let v2 = std::fs::read(plugin_path(names::MASTER_SLAVE_NEXT).expect("plugin")).expect("read");
    let registry = PluginRegistry::new(host.clone());
    registry
        .install_bytes("ms", &v1, PluginOptions::default())
        .expect("install");
    let model = registry.state_model("ms").expect("model");
    let ctx = ctx();
    let opts = CallOptions::default();

    let mut g = c.benchmark_group("transition");
    g.bench_function("host", |b| {
        b.iter(|| model.transition(&ctx, &opts).expect("call"))
    });
    let (component, _) = host.compile(&v1).expect("compile");
    let pre = raw::state_model_pre(&host, &component).expect("pre");
    let mut store = raw::store(&host).expect("store");
    let bare = pre.instantiate(&mut store).expect("instantiate");
    g.bench_function("bare", |b| {
        b.iter(|| {
            bare.strand_statemodel_model()
                .call_transition(&mut store, &ctx)
                .expect("call")
                .expect("ok")
        })
    });
    g.finish();

    c.bench_function("instantiate/from_pre", |b| {
        b.iter(|| {
            let mut store = raw::store(&host).expect("store");
            pre.instantiate(&mut store).expect("instantiate");
            store
        })
    });

    c.bench_function("load/cached_artefact", |b| {
        b.iter(|| host.compile(&v1).expect("cached load"))
    });

    let mut g = c.benchmark_group("swap");
    g.sample_size(30);
    let mut flip = false;
    g.bench_function("install", |b| {
        b.iter(|| {
            flip = !flip;
            registry
                .install_bytes("ms", if flip { &v2 } else { &v1 }, PluginOptions::default())
                .expect("swap")
        })
    });
    g.bench_function("pointer", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                flip = !flip;
                let r = registry.install_bytes(
                    "ms",
                    if flip { &v2 } else { &v1 },
                    PluginOptions::default(),
                );
                total += r.expect("swap").swap_time;
            }
            total
        })
    });
    g.finish();
}

/// The MasterSlave model in each language: per-call, instantiation and
/// cached-load cost.
fn polyglot(c: &mut Criterion) {
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(compiled_cache_dir()),
        ..HostConfig::default()
    })
    .expect("host");
    let plugins = [
        ("rust", names::MASTER_SLAVE),
        ("python", names::PY_MASTER_SLAVE),
        ("js", names::JS_MASTER_SLAVE),
    ];
    let ctx = ctx();
    let opts = CallOptions::default();
    for (language, name) in plugins {
        let bytes = std::fs::read(plugin_path(name).expect("plugin")).expect("read");
        let registry = PluginRegistry::new(host.clone());
        registry
            .install_bytes("ms", &bytes, PluginOptions::default())
            .expect("install");
        let model = registry.state_model("ms").expect("model");
        c.bench_function(&format!("polyglot/transition/{language}"), |b| {
            b.iter(|| model.transition(&ctx, &opts).expect("call"))
        });

        let (component, _) = host.compile(&bytes).expect("compile");
        let pre = raw::state_model_pre(&host, &component).expect("pre");
        let mut g = c.benchmark_group("polyglot/instantiate");
        g.sample_size(20);
        g.bench_function(language, |b| {
            b.iter(|| {
                let mut store = raw::store(&host).expect("store");
                pre.instantiate(&mut store).expect("instantiate");
                store
            })
        });
        g.finish();

        let mut g = c.benchmark_group("polyglot/cached_load");
        g.sample_size(20);
        g.bench_function(language, |b| {
            b.iter(|| host.compile(&bytes).expect("cached load"))
        });
        g.finish();
    }
}

criterion_group! {
    name = host_benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = benches, polyglot
}
criterion_main!(host_benches);
