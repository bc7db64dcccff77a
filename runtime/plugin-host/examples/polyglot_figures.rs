//! One-shot figures for the MasterSlave model in Rust, Python and
//! JavaScript that a criterion loop cannot give: component size, the
//! uncached compile (Cranelift, once per component and engine), and the
//! smallest memory cap an instance loads and transitions under (found by
//! bisection with the host's own limiter). Per-call, instantiation and
//! cached-load costs are in `benches/host.rs` (`polyglot/…`).
//!
//! Run: `cargo run -p strand-plugin-host --example polyglot_figures`.

use std::time::Instant;

use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_plugin_host::{
    CallOptions, HostConfig, Limits, PluginHost, PluginOptions, PluginRegistry, TransitionContext,
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

/// Whether the component installs and transitions under `cap` bytes.
fn fits(host: &std::sync::Arc<PluginHost>, bytes: &[u8], cap: usize) -> bool {
    let registry = PluginRegistry::new(host.clone());
    let options = PluginOptions {
        limits: Limits {
            memory_bytes: cap,
            ..Limits::default()
        },
        ..PluginOptions::default()
    };
    registry.install_bytes("ms", bytes, options).is_ok()
        && registry
            .state_model("ms")
            .is_some_and(|m| m.transition(&ctx(), &CallOptions::default()).is_ok())
}

/// A byte count in KiB below 1 MiB, in MiB above.
fn size(bytes: usize) -> String {
    if bytes < 1 << 20 {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    }
}

fn main() {
    let uncached = PluginHost::new(HostConfig::default()).expect("host");
    let cached = PluginHost::new(HostConfig {
        cache_dir: Some(compiled_cache_dir()),
        ..HostConfig::default()
    })
    .expect("host");
    println!("| plugin | component | compile (uncached) | smallest memory cap |");
    println!("|---|---|---|---|");
    for (language, name) in [
        ("Rust", names::MASTER_SLAVE),
        ("Python", names::PY_MASTER_SLAVE),
        ("JavaScript", names::JS_MASTER_SLAVE),
    ] {
        let bytes = std::fs::read(plugin_path(name).expect("plugin")).expect("read");
        let started = Instant::now();
        uncached.compile(&bytes).expect("compile");
        let compile = started.elapsed();
        // Bisect in 64 KiB pages (the wasm page size).
        let page = 64 << 10;
        let (mut lo, mut hi) = (0usize, 256usize << 20);
        assert!(fits(&cached, &bytes, hi), "{name} needs more than 256 MiB");
        while hi - lo > page {
            let mid = (lo + hi) / 2 / page * page;
            if fits(&cached, &bytes, mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        println!(
            "| {language} (`{name}`) | {} | {:.1} s | {:.1} MiB |",
            size(bytes.len()),
            compile.as_secs_f64(),
            hi as f64 / f64::from(1 << 20),
        );
    }
}
