//! The web console in a real browser: Debian's headless Chromium, driven
//! over WebDriver (chromedriver, through `fantoccini`), on a real cluster
//! — ZooKeeper, a `strand controller`, two `strand participant` processes
//! running the Rust MasterSlave plugin — served by `strand rest
//! --token-file`:
//!
//! * the grid shows the states the external view holds;
//! * a failover (a participant killed with SIGKILL) shows on the page
//!   without a reload;
//! * an action sent with a wrong token is refused, and the page shows the
//!   API's own message; with the right token it goes through and the page
//!   shows its effect.
//!
//! The page is saved as `console.png` under the target dir's test
//! scratch space. Chromium and chromedriver are Debian's `chromium` and
//! `chromium-driver` (`cargo xtask test` installs them when missing);
//! `STRAND_CHROMIUM` and `STRAND_CHROMEDRIVER` name others.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{DEADLINE, StrandProcess};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use strand_admin::RebalanceMode;
use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_devcluster::zookeeper::free_port;
use strand_model::InstanceConfig;
use strand_tests::cluster::{CLUSTER, Cluster, count, instance};

const PARTITIONS: u32 = 4;
const TOKEN: &str = "console-test-token";

fn tool(variable: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "{} not found: install Debian's chromium and chromium-driver (`cargo xtask test` \
         does) or set {variable}",
        path.display()
    );
    path
}

/// chromedriver and a WebDriver session of headless Chromium; both end
/// when dropped.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    async fn start() -> Self {
        let chromium = tool("STRAND_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = tool("STRAND_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port().expect("free port");
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        // Flags as a sandboxed, offline machine needs them: no sandbox (root),
        // no GPU, and none of the background connections its closed network
        // would refuse.
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--window-size=1280,900".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(err) => {
                    assert!(start.elapsed() < DEADLINE, "no WebDriver session: {err}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Runs `script` (a function body returning a value) until it returns
    /// `true`; panics with `what` and the page's text at the deadline.
    async fn until(&self, what: &str, script: &str) {
        let start = Instant::now();
        loop {
            let value = self
                .client
                .execute(script, Vec::new())
                .await
                .expect("run a script in the page");
            if value == json!(true) {
                return;
            }
            if start.elapsed() > DEADLINE {
                let text = self
                    .client
                    .execute("return document.body.innerText;", Vec::new())
                    .await
                    .unwrap_or_default();
                panic!("the page never showed {what}; it shows:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The state the grid shows for one replica.
    async fn cell(&self, resource: &str, partition: &str, instance: &str) -> String {
        let script = format!(
            "const grid = document.querySelector('section[data-resource=\"{resource}\"] table.grid');
             if (!grid) return '';
             const column = [...grid.querySelectorAll('thead th')].findIndex(th => th.textContent === '{instance}');
             const row = grid.querySelector('tr[data-partition=\"{partition}\"]');
             return row && column > 0 ? row.children[column].textContent : '';"
        );
        let value = self
            .client
            .execute(&script, Vec::new())
            .await
            .expect("read the grid");
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Clicks the button with this id and accepts its confirmation.
    async fn act(&self, button: &str) {
        self.client
            .find(Locator::Id(button))
            .await
            .unwrap_or_else(|err| panic!("no button {button}: {err}"))
            .click()
            .await
            .expect("click");
        let start = Instant::now();
        while self.client.accept_alert().await.is_err() {
            assert!(start.elapsed() < DEADLINE, "no confirmation for {button}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn set_token(&self, token: &str) {
        let field = self
            .client
            .find(Locator::Id("token"))
            .await
            .expect("token field");
        field.clear().await.expect("clear the token");
        field.send_keys(token).await.expect("type the token");
    }
}

fn participant(zk: &str, i: usize) -> StrandProcess {
    let plugin = plugin_path(names::MASTER_SLAVE).expect("plugin built");
    let cache = compiled_cache_dir();
    StrandProcess::spawn(|command| {
        command
            .args(["--zk", zk, "participant", "--cluster", CLUSTER])
            .args(["--instance", &instance(i)])
            .arg("--plugin")
            .arg(format!("MasterSlave={}", plugin.display()))
            .arg("--cache-dir")
            .arg(&cache)
            .env("RUST_LOG", "warn");
    })
}

async fn enabled(cluster: &Cluster, instance: &str) -> bool {
    let config = cluster
        .admin
        .instance_config(CLUSTER, instance)
        .await
        .expect("instance config");
    InstanceConfig::from(config).helix_enabled()
}

fn screenshot_path() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("console.png")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_the_cluster_live_and_refuses_a_wrong_token() {
    let cluster = Cluster::new(2).await;
    let zk = cluster.server.connect_string();
    cluster
        .add_master_slave_replicas("db", PARTITIONS, 2, RebalanceMode::SemiAuto)
        .await;
    let mut participants = [Some(participant(&zk, 0)), Some(participant(&zk, 1))];
    let _controller = StrandProcess::spawn(|command| {
        command
            .args([
                "--zk",
                &zk,
                "controller",
                "--cluster",
                CLUSTER,
                "--name",
                "ctl0",
            ])
            .env("RUST_LOG", "warn");
    });
    cluster
        .wait_view("db", "convergence", |view| {
            view.len() == PARTITIONS as usize
                && view
                    .values()
                    .all(|m| count(m, "MASTER") == 1 && count(m, "SLAVE") == 1)
        })
        .await;

    let token_dir = tempfile::tempdir().expect("temp dir");
    let token_file = token_dir.path().join("token");
    std::fs::write(&token_file, TOKEN).expect("token file");
    let listen = format!("127.0.0.1:{}", free_port().expect("free port"));
    let rest = StrandProcess::spawn(|command| {
        command
            .args(["--zk", &zk, "rest", "--listen", &listen])
            .arg("--token-file")
            .arg(&token_file)
            .env("RUST_LOG", "warn");
    });
    rest.stderr_shows("serving http://").await;

    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("http://{listen}/#/cluster/{CLUSTER}"))
        .await
        .expect("load the console");

    // The grid shows what the external view holds.
    let view = cluster.view("db").await;
    browser
        .until(
            "the live feed",
            "return document.getElementById('connection').textContent === 'live';",
        )
        .await;
    let (partition, states) = view.iter().next().expect("a partition");
    let master = states
        .iter()
        .find(|(_, s)| s.as_str() == "MASTER")
        .map(|(i, _)| i.clone())
        .expect("a MASTER");
    let slave = states
        .iter()
        .find(|(_, s)| s.as_str() == "SLAVE")
        .map(|(i, _)| i.clone())
        .expect("a SLAVE");
    let start = Instant::now();
    while browser.cell("db", partition, &master).await != "MASTER" {
        assert!(
            start.elapsed() < DEADLINE,
            "the grid never showed {partition}'s MASTER"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(browser.cell("db", partition, &slave).await, "SLAVE");
    browser
        .until(
            "every partition with a MASTER",
            &format!(
                "return document.querySelectorAll('section[data-resource=\"db\"] td.state[data-state=\"MASTER\"]').length === {PARTITIONS};"
            ),
        )
        .await;
    browser
        .until(
            "the controller leader",
            "return document.getElementById('c-controller').textContent.includes('ctl0');",
        )
        .await;
    let png = browser.client.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path(), png).expect("save the screenshot");

    // A failover: the MASTER's participant is killed; without a reload, the
    // page shows the other replica promoted.
    let master_index = (0..2)
        .find(|i| instance(*i) == master)
        .expect("the MASTER is one of ours");
    drop(participants[master_index].take());
    let start = Instant::now();
    while browser.cell("db", partition, &slave).await != "MASTER" {
        assert!(
            start.elapsed() < DEADLINE,
            "the page never showed {slave} promoted for {partition}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A wrong token: the action is refused with the API's own message.
    let survivor = slave.clone();
    browser.set_token("not-the-token").await;
    browser.act(&format!("act-enable-{survivor}")).await;
    browser
        .until(
            "the refusal",
            "const m = document.getElementById('message');
             return !m.hidden && m.dataset.kind === 'error' && m.textContent.includes('the bearer token is not valid');",
        )
        .await;
    assert!(
        enabled(&cluster, &survivor).await,
        "a refused action changes nothing"
    );

    // The right token: the instance is disabled, and the page says so.
    browser.set_token(TOKEN).await;
    browser.act(&format!("act-enable-{survivor}")).await;
    browser
        .until(
            "the instance disabled",
            &format!(
                "const row = document.querySelector('tr[data-instance=\"{survivor}\"]');
                 return !!row && row.textContent.includes('disabled');"
            ),
        )
        .await;
    let start = Instant::now();
    while enabled(&cluster, &survivor).await {
        assert!(start.elapsed() < DEADLINE, "{survivor} never disabled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = browser.client.clone().close().await;
}
