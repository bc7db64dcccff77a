//! The README's first command must not rot: `strand quickstart` brings up
//! its own ZooKeeper, a controller and three participants, converges,
//! shows the routing table (external and customized view), hot-swaps,
//! fails over, rejoins and exits 0.

use std::process::Command;

use strand_devcluster::plugins::{ensure_built, wasm_dir};

#[test]
fn quickstart_runs_end_to_end() {
    ensure_built().expect("plugins built");
    let out = Command::new(env!("CARGO_BIN_EXE_strand"))
        .arg("quickstart")
        .arg("--plugin-dir")
        .arg(wasm_dir())
        .env_remove("STRAND_ZK")
        .output()
        .expect("run strand quickstart");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for expected in [
        "Converged in",
        "Routing table of STRAND_QUICKSTART from EXTERNALVIEW",
        "Routing table of STRAND_QUICKSTART from CUSTOMIZEDVIEW/DEPLOY_STATE",
        "Failed over in",
        "Rejoined and converged in",
        "MasterSlave 0.2.0",
        "Quickstart done",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}
