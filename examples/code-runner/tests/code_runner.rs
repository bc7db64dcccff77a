//! The remote code runner end to end: a private ZooKeeper, a real
//! controller, three runner participants (the OnlineOffline plugin from
//! `plugins/`) and the client, sending the real programs from
//! `plugins/programs/`.

use std::time::Duration;

use strand_admin::Admin;
use strand_code_runner::client::{Client, Submission, Target};
use strand_code_runner::runner::{Runner, RunnerConfig};
use strand_code_runner::setup::ensure_cluster;
use strand_controller::Controller;
use strand_devcluster::plugins::{names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_plugin_host::CommandLimits;
use strand_zk::ZkConfig;

const CLUSTER: &str = "RUNNERS";
const DEADLINE: Duration = Duration::from_secs(60);
const RUNNERS: [&str; 3] = ["localhost_13000", "localhost_13001", "localhost_13002"];

fn program(name: &str) -> Vec<u8> {
    std::fs::read(plugin_path(name).expect("program built")).expect("read program")
}

async fn runner(zk: &ZkConfig, instance: &str, cache: &std::path::Path) -> Runner {
    let mut config = RunnerConfig::new(
        zk.clone(),
        CLUSTER,
        instance,
        plugin_path(names::ONLINE_OFFLINE).expect("plugin built"),
    );
    config.limits = CommandLimits {
        deadline: Duration::from_secs(10),
        memory_bytes: 16 << 20,
        output_bytes: 64 << 10,
    };
    config.cache_dir = Some(cache.to_owned());
    Runner::start(config).await.expect("runner starts")
}

fn submission<'a>(program: &'a [u8], args: &[&str], target: Target) -> Submission<'a> {
    Submission {
        program,
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        stdin: b"",
        deadline: Duration::from_secs(5),
        target,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn runs_programs_on_live_runners_and_drops_stopped_ones_at_once() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = ZkConfig::new(server.connect_string()).with_session_timeout(Duration::from_secs(4));
    let cache = tempfile::tempdir().expect("cache dir");
    let admin = Admin::connect(&server.connect_string())
        .await
        .expect("admin");
    ensure_cluster(&admin, CLUSTER).await.expect("set up");
    ensure_cluster(&admin, CLUSTER).await.expect("set up twice");
    let controller = Controller::start(zk.clone(), CLUSTER, "controller")
        .await
        .expect("controller");
    let mut runners = Vec::new();
    for instance in RUNNERS {
        runners.push(runner(&zk, instance, cache.path()).await);
    }
    let client = Client::connect(zk.clone(), CLUSTER).await.expect("client");
    assert_eq!(client.wait_for_runners(3, DEADLINE).await, RUNNERS);

    // all: every runner runs it, with args and stdin.
    let hello = program(names::HELLO_PROGRAM);
    let mut all = submission(&hello, &["to", "everyone"], Target::All);
    all.stdin = b"line one\nline two\n";
    let replies = client.run(&all).await.expect("run on all");
    let from: Vec<&str> = replies.iter().map(|r| r.instance.as_str()).collect();
    assert_eq!(from, RUNNERS);
    for reply in &replies {
        assert!(reply.success(), "{reply:?}");
        assert!(reply.stdout.contains("args: to everyone"), "{reply:?}");
        assert!(reply.stdout.contains("LINE ONE"), "{reply:?}");
    }

    // random: exactly one of them.
    let replies = client
        .run(&submission(&hello, &[], Target::Random))
        .await
        .expect("run on random");
    assert_eq!(replies.len(), 1);
    assert!(RUNNERS.contains(&replies[0].instance.as_str()));

    // A named runner; a name that is not a live runner is refused up front.
    let replies = client
        .run(&submission(
            &hello,
            &[],
            Target::Instance(RUNNERS[2].into()),
        ))
        .await
        .expect("run on one");
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].instance, RUNNERS[2]);
    let refused = client
        .run(&submission(
            &hello,
            &[],
            Target::Instance("localhost_9".into()),
        ))
        .await
        .expect_err("not a runner");
    assert!(
        refused.to_string().contains("not a live code runner"),
        "{refused}"
    );

    // The sandbox: deadline and memory cap end a run; the runner keeps serving.
    let stress = program(names::STRESS_PROGRAM);
    let mut spin = submission(&stress, &["spin"], Target::Instance(RUNNERS[1].into()));
    spin.deadline = Duration::from_millis(500);
    let replies = client.run(&spin).await.expect("spin");
    assert!(!replies[0].success());
    assert!(
        matches!(&replies[0].outcome, Ok((false, s)) if s.contains("timed out")),
        "{:?}",
        replies[0]
    );
    let replies = client
        .run(&submission(
            &stress,
            &["alloc"],
            Target::Instance(RUNNERS[1].into()),
        ))
        .await
        .expect("alloc");
    assert!(
        matches!(&replies[0].outcome, Ok((false, s)) if s.contains("memory cap")),
        "{:?}",
        replies[0]
    );
    // Not a command component: refused by the runner, nothing runs.
    let not_a_program =
        std::fs::read(plugin_path(names::MASTER_SLAVE).expect("plugin")).expect("read plugin");
    let replies = client
        .run(&submission(
            &not_a_program,
            &[],
            Target::Instance(RUNNERS[1].into()),
        ))
        .await
        .expect("plugin as program");
    assert!(
        matches!(&replies[0].outcome, Err(r) if r.contains("wasi:cli/command")),
        "{:?}",
        replies[0]
    );

    // A runner stops while running a long program: the client hears at
    // once that it left, and it is no longer a target.
    let stopped = runners.remove(0);
    let mut long = submission(&stress, &["spin"], Target::Instance(RUNNERS[0].into()));
    long.deadline = Duration::from_secs(8);
    let (replies, ()) = tokio::join!(client.run(&long), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stopped.shutdown().await;
    });
    let replies = replies.expect("long run");
    assert!(
        matches!(&replies[0].outcome, Err(r) if r.contains("left the cluster")),
        "{:?}",
        replies[0]
    );
    assert_eq!(client.runners(), RUNNERS[1..]);
    let replies = client
        .run(&submission(&hello, &[], Target::All))
        .await
        .expect("run on the rest");
    let from: Vec<&str> = replies.iter().map(|r| r.instance.as_str()).collect();
    assert_eq!(from, RUNNERS[1..]);
    assert!(replies.iter().all(|r| r.success()));

    // The command line does the same.
    let hello_path = plugin_path(names::HELLO_PROGRAM).expect("program built");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_code-runner"))
        .args([
            "--zk",
            &server.connect_string(),
            "--cluster",
            CLUSTER,
            "run",
            "--target",
            "all",
        ])
        .arg(&hello_path)
        .args(["--", "from", "the", "cli"])
        .env_remove("STRAND_ZK")
        .output()
        .await
        .expect("run code-runner");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for instance in &RUNNERS[1..] {
        assert!(
            stdout.contains(&format!("== {instance}: exited with code 0")),
            "{stdout}"
        );
    }
    assert_eq!(stdout.matches("args: from the cli").count(), 2, "{stdout}");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_code-runner"))
        .args([
            "--zk",
            &server.connect_string(),
            "--cluster",
            CLUSTER,
            "run",
            "--target",
        ])
        .arg(RUNNERS[0])
        .arg(&hello_path)
        .env_remove("STRAND_ZK")
        .output()
        .await
        .expect("run code-runner");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not a live code runner"), "{stderr}");

    for runner in runners {
        runner.shutdown().await;
    }
    controller.shutdown().await.expect("controller stops");
}
