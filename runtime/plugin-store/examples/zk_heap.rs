//! How much ZooKeeper heap a plugin-store budget needs: fills the store of
//! a private ZooKeeper (Debian's, run with the given `-Xmx`) with
//! artefacts up to the budget, has three readers fetch all of them at once
//! (participants following a deployment), restarts the server (it replays
//! its snapshot and transaction log into memory), and reports whether it
//! survived and how much heap it holds after a full GC.
//!
//! Artefacts are incompressible 6 MiB blobs, the stored size of a
//! compressed Python component, written with the store's own chunking.
//!
//! Run: `cargo run -p strand-plugin-store --example zk_heap -- HEAP_MIB
//! BUDGET_MIB [BUDGET_MIB…]`. Prints one JSON line per budget.

use std::process::Command;
use std::time::{Duration, Instant};

use strand_admin::Admin;
use strand_devcluster::zookeeper::LocalZk;
use strand_plugin_store::StorePaths;
use strand_plugin_store::artefact::{self, DEFAULT_CHUNK_SIZE, Packed};

/// The stored size of one artefact.
const ARTEFACT: usize = 6 << 20;

fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

/// The heap in use after a full GC, in MiB (`jcmd GC.heap_info`).
fn heap_used_mib(pid: u32) -> Option<f64> {
    Command::new("jcmd")
        .args([&pid.to_string(), "GC.run"])
        .output()
        .ok()?;
    let out = Command::new("jcmd")
        .args([&pid.to_string(), "GC.heap_info"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "def new generation   total 9792K, used 1234K" + "tenured generation   total …, used …K"
    let used_k = text
        .lines()
        .filter(|l| l.contains("generation"))
        .filter_map(|l| l.split("used ").nth(1))
        .filter_map(|u| {
            u.split_whitespace()
                .next()?
                .strip_suffix('K')?
                .parse::<f64>()
                .ok()
        })
        .collect::<Vec<_>>();
    (!used_k.is_empty()).then(|| used_k.iter().sum::<f64>() / 1024.0)
}

async fn run(heap_mib: u32, budget_mib: usize) -> Result<String, Box<dyn std::error::Error>> {
    let mut server = LocalZk::start_with_heap(heap_mib)?;
    let admin = Admin::connect(&server.connect_string()).await?;
    admin.add_cluster("HEAP").await?;
    let paths = StorePaths::new("HEAP");
    let count = (budget_mib << 20) / ARTEFACT;
    let started = Instant::now();
    let mut shas = Vec::new();
    let mut failure = None;
    for i in 0..count {
        let packed = Packed::identity(&noise(ARTEFACT, i as u64 + 1));
        match artefact::write_packed(admin.zk(), &paths, &packed, DEFAULT_CHUNK_SIZE).await {
            Ok(_) => shas.push(packed.sha256),
            Err(e) => {
                failure = Some(format!("write {i}: {e}"));
                break;
            }
        }
    }
    let written = started.elapsed();
    // Three participants fetch everything at once.
    if failure.is_none() {
        let reads = (0..3).map(|_| {
            let zk = admin.zk().clone();
            let paths = paths.clone();
            let shas = shas.clone();
            tokio::spawn(async move {
                for sha in &shas {
                    artefact::read(&zk, &paths, sha).await?;
                }
                Ok::<_, strand_plugin_store::StoreError>(())
            })
        });
        for read in futures::future::join_all(reads).await {
            match read {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failure = Some(format!("read: {e}")),
                Err(e) => failure = Some(format!("reader: {e}")),
            }
        }
    }
    let used_running = server.pid().and_then(heap_used_mib);
    let restarted = if failure.is_none() {
        drop(admin);
        match server.restart() {
            Ok(()) => {
                let admin = Admin::connect(&server.connect_string()).await?;
                let back = tokio::time::timeout(
                    Duration::from_secs(120),
                    artefact::read(admin.zk(), &paths, &shas[shas.len() - 1]),
                )
                .await;
                matches!(back, Ok(Ok(_)))
            }
            Err(e) => {
                failure = Some(format!("restart: {e}"));
                false
            }
        }
    } else {
        false
    };
    let used_restarted = server.pid().and_then(heap_used_mib);
    // Whether the server still answers (one that ran out of memory does not).
    let serving = server.is_serving();
    let stored_mib = (shas.len() * ARTEFACT) >> 20;
    Ok(format!(
        "{{\"heap_mib\": {heap_mib}, \"budget_mib\": {budget_mib}, \"stored_mib\": {stored_mib}, \"ok\": {}, \"survived_restart\": {restarted}, \"serving_after\": {serving}, \"heap_used_after_load_mib\": {}, \"heap_used_after_restart_mib\": {}, \"write_s\": {:.1}, \"failure\": {:?}}}",
        failure.is_none(),
        used_running.map_or("null".into(), |u| format!("{u:.0}")),
        used_restarted.map_or("null".into(), |u| format!("{u:.0}")),
        written.as_secs_f64(),
        failure.unwrap_or_default(),
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let (heap, budgets) = args
        .split_first()
        .ok_or("usage: zk_heap HEAP_MIB BUDGET_MIB [BUDGET_MIB…]")?;
    for budget in budgets {
        println!("{}", run(u32::try_from(*heap)?, *budget).await?);
    }
    Ok(())
}
