//! `strand rest` as a process: Helix's documented customized-state-config
//! request, sent exactly as Helix's documentation gives it, is then what
//! `strand admin customized-state-config … get` prints; a bad token file
//! stops the command with one line.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use strand_devcluster::zookeeper::{LocalZk, free_port};

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn strand(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strand"))
        .args(args)
        .env_remove("STRAND_ZK")
        .env("RUST_LOG", "off")
        .output()
        .expect("run strand")
}

/// Polls until the API answers (generous deadline: the box is loaded).
async fn wait_until_serving(base: &str) {
    let client = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if let Ok(response) = client.get(format!("{base}/clusters")).send().await
            && response.status().is_success()
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "strand rest did not start serving"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn helix_documented_customized_state_config_request_reaches_the_admin_cli() {
    let zk_server = LocalZk::start().expect("zookeeper");
    let zk = zk_server.connect_string();
    assert!(
        strand(&["--zk", &zk, "admin", "add-cluster", "myCluster"])
            .status
            .success()
    );
    let port = free_port().expect("free port");
    let listen = format!("127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_strand"))
            .args(["rest", "--zk", &zk, "--listen", &listen])
            .env("RUST_LOG", "off")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start strand rest"),
    );
    let base = format!("http://{listen}/admin/v2");
    wait_until_serving(&base).await;

    // curl -X PUT -H "Content-Type: application/json" \
    //   http://localhost:8100/admin/v2/clusters/myCluster/customized-state-config -d '…'
    let response = reqwest::Client::new()
        .put(format!("{base}/clusters/myCluster/customized-state-config"))
        .header("Content-Type", "application/json")
        .body(r#"{"id":"CustomizedStateConfig","listFields":{"AGGREGATION_ENABLED_TYPES":["CUSTOMIZED_STATE_TYPE_0","CUSTOMIZED_STATE_TYPE_1"]},"simpleFields":{},"mapFields":{}}"#)
        .send()
        .await
        .expect("PUT");
    assert_eq!(response.status().as_u16(), 200);

    let out = strand(&[
        "--zk",
        &zk,
        "admin",
        "customized-state-config",
        "myCluster",
        "get",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "CUSTOMIZED_STATE_TYPE_0\nCUSTOMIZED_STATE_TYPE_1\n"
    );

    // The same request as a page could send it: refused, nothing changes.
    let client = reqwest::Client::new();
    let page = client
        .post(format!(
            "{base}/clusters/myCluster?command=enableMaintenanceMode"
        ))
        .header("Content-Type", "text/plain")
        .body("pwned")
        .send()
        .await
        .expect("POST");
    assert_eq!(page.status().as_u16(), 415);
    let rebound = client
        .get(format!("{base}/clusters"))
        .header("Host", format!("evil.example:{port}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(rebound.status().as_u16(), 403);
    let maintenance: serde_json::Value = client
        .get(format!("{base}/clusters/myCluster/maintenance"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(maintenance["maintenance"], false);
}

#[test]
fn allow_flags_that_make_no_sense_stop_the_command() {
    for (args, needle) in [
        (vec!["--allow-origin", "ui.example"], "not an origin"),
        (
            vec!["--allow-origin", "*", "--allow-origin", "http://x"],
            "give it alone",
        ),
    ] {
        let mut all = vec!["rest", "--zk", "127.0.0.1:1"];
        all.extend(args);
        let out = strand(&all);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
        assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
    }
    let out = strand(&["rest", "--zk", "127.0.0.1:1", "--allow-host", "a/b"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a malformed --allow-host is a usage error"
    );
}

#[test]
fn an_empty_or_missing_token_file_stops_the_command_with_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("token");
    std::fs::write(&empty, "\n").expect("write token file");
    let missing = dir.path().join("absent");
    for (file, needle) in [(&empty, "is empty"), (&missing, "reading the token file")] {
        let out = strand(&[
            "rest",
            "--zk",
            "127.0.0.1:1",
            "--token-file",
            file.to_str().expect("utf-8 path"),
        ]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
        assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
    }
}
