//! How late a spinning plugin call is interrupted while every core is busy:
//! the faulty plugin's `spin_*` partitions loop forever, and busy-loop
//! threads (two per core) compete with it and with the epoch ticker.
//!
//! Run: `cargo run -p strand-plugin-host --example deadline_under_load
//! [-- SECONDS…]` (default: the host's default deadline, 30 s). Prints one
//! JSON line per deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_plugin_host::{
    CallOptions, DEFAULT_DEADLINE, HostConfig, PluginHost, PluginOptions, PluginRegistry,
    TransitionContext,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let deadlines: Vec<Duration> = std::env::args()
        .skip(1)
        .map(|a| a.parse::<f64>().map(Duration::from_secs_f64))
        .collect::<Result<_, _>>()?;
    let deadlines = if deadlines.is_empty() {
        vec![DEFAULT_DEADLINE]
    } else {
        deadlines
    };
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(compiled_cache_dir()),
        ..HostConfig::default()
    })?;
    let registry = PluginRegistry::new(host);
    registry.install_file(
        "faulty",
        &plugin_path(names::FAULTY)?,
        PluginOptions::default(),
    )?;
    let model = registry
        .state_model("faulty")
        .ok_or("faulty not installed")?;

    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let stop = Arc::new(AtomicBool::new(false));
    let busy: Vec<_> = (0..2 * cores)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                }
            })
        })
        .collect();
    for deadline in deadlines {
        let ctx = TransitionContext {
            cluster: "c1".into(),
            instance: "host_12000".into(),
            resource: "db".into(),
            partition: "spin_0".into(),
            from_state: "OFFLINE".into(),
            to_state: "ONLINE".into(),
            message_id: "m-1".into(),
            config: Vec::new(),
        };
        let started = Instant::now();
        let result = model.transition(&ctx, &CallOptions::with_deadline(deadline));
        let took = started.elapsed();
        let overshoot = took.saturating_sub(deadline);
        println!(
            "{{\"deadline_s\": {:.3}, \"interrupted_after_s\": {:.3}, \"overshoot_ms\": {:.1}, \"overshoot_pct\": {:.2}, \"busy_threads\": {}, \"timed_out\": {}}}",
            deadline.as_secs_f64(),
            took.as_secs_f64(),
            overshoot.as_secs_f64() * 1e3,
            overshoot.as_secs_f64() / deadline.as_secs_f64() * 100.0,
            2 * cores,
            matches!(result, Err(strand_plugin_host::CallError::Timeout { .. })),
        );
    }
    stop.store(true, Ordering::Relaxed);
    for t in busy {
        let _ = t.join();
    }
    Ok(())
}
