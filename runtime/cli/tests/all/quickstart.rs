//! The README's first command must not rot: `strand quickstart` brings up
//! its own ZooKeeper, a controller and three participants, converges,
//! shows the routing table (external and customized view), hot-swaps,
//! fails over, rejoins and exits 0; with `--console` it serves the web
//! console on the cluster from the start and keeps running until SIGTERM.

use std::process::Command;
use std::time::Instant;

use crate::common::{DEADLINE, StrandProcess};
use strand_devcluster::plugins::{ensure_built, wasm_dir};
use strand_devcluster::zookeeper::free_port;

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

#[tokio::test]
async fn quickstart_console_serves_the_cluster_until_stopped() {
    ensure_built().expect("plugins built");
    let listen = format!("127.0.0.1:{}", free_port().expect("free port"));
    let mut quickstart = StrandProcess::spawn(|command| {
        command
            .arg("quickstart")
            .arg("--plugin-dir")
            .arg(wasm_dir())
            .args(["--console", &listen])
            .env_remove("STRAND_ZK");
    });
    quickstart
        .stderr_shows(&format!(
            "serving the web console at http://{listen}/#/cluster/STRAND_QUICKSTART"
        ))
        .await;
    quickstart
        .stderr_shows("the cluster keeps running; watch and operate it at")
        .await;

    let page = reqwest::get(format!("http://{listen}/"))
        .await
        .expect("GET /");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.expect("page").contains("/console/app.js"));

    // The live feed has the demo's resource, converged after the rejoin.
    let mut feed = reqwest::get(format!(
        "http://{listen}/console/clusters/STRAND_QUICKSTART/events"
    ))
    .await
    .expect("open the feed");
    let mut text = String::new();
    let start = Instant::now();
    while !text.contains("event: ready") {
        assert!(start.elapsed() < DEADLINE, "no snapshot: {text}");
        let chunk = feed
            .chunk()
            .await
            .expect("read")
            .expect("the feed stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains(r#""topic":"resource/MyDB""#), "{text}");
    assert!(text.contains(r#""MASTER""#), "{text}");

    quickstart.sigterm();
    quickstart.exits("quickstart --console after SIGTERM").await;
    assert!(
        quickstart
            .stderr()
            .contains("stopping what the quickstart started")
    );
}
