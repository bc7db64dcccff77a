//! The fixture the plugin-store tests share: a private ZooKeeper with a
//! Helix cluster, a store on it validating on one shared plugin host, and
//! helpers to read raw znodes and build component variants.

#![allow(dead_code)] // each test binary uses a part

use std::sync::{Arc, OnceLock};

use strand_admin::Admin;
use strand_devcluster::plugins::plugin_path;
use strand_devcluster::zookeeper::LocalZk;
use strand_model::PropertyPaths;
use strand_plugin_host::{HostConfig, HostInspector, PluginHost};
use strand_plugin_store::{DeployOptions, PluginStore, StoreError, StorePaths};

pub const CLUSTER: &str = "STORE";

pub struct Fixture {
    pub server: LocalZk,
    pub admin: Admin,
    pub store: PluginStore,
    pub paths: StorePaths,
}

pub fn host() -> Arc<PluginHost> {
    static HOST: OnceLock<Arc<PluginHost>> = OnceLock::new();
    HOST.get_or_init(|| PluginHost::new(HostConfig::default()).expect("plugin host"))
        .clone()
}

/// What validates deployments in these tests: the shared host.
pub fn inspector() -> HostInspector {
    HostInspector::new(host())
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with_chunk_size(16 * 1024).await
    }

    pub async fn with_chunk_size(chunk: usize) -> Self {
        let server = LocalZk::start().expect("zookeeper");
        let admin = Admin::connect(&server.connect_string())
            .await
            .expect("admin");
        admin.add_cluster(CLUSTER).await.expect("cluster");
        let store = PluginStore::new(admin.zk().clone(), CLUSTER)
            .with_inspector(inspector())
            .with_chunk_size(chunk);
        Self {
            server,
            admin,
            store,
            paths: StorePaths::new(CLUSTER),
        }
    }

    pub async fn deploy(
        &self,
        plugin: &str,
        name: Option<&str>,
    ) -> Result<strand_plugin_store::Deployment, StoreError> {
        self.deploy_bytes(&bytes(plugin), name, false).await
    }

    pub async fn deploy_bytes(
        &self,
        bytes: &[u8],
        name: Option<&str>,
        force: bool,
    ) -> Result<strand_plugin_store::Deployment, StoreError> {
        let opts = DeployOptions {
            name: name.map(str::to_owned),
            force,
            deployed_by: "test".into(),
            ..DeployOptions::default()
        };
        self.store.deploy(bytes, &opts).await
    }

    pub async fn raw(&self, path: &str) -> Option<Vec<u8>> {
        self.admin
            .zk()
            .get(path)
            .await
            .expect("zk get")
            .map(|(data, _)| data)
    }

    /// Every znode below the store, with its data (to prove nothing changed).
    pub async fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut frontier = vec![
            self.paths.root().to_owned(),
            PropertyPaths::new(CLUSTER).state_model_defs(),
        ];
        while let Some(path) = frontier.pop() {
            if let Some(data) = self.raw(&path).await {
                out.push((path.clone(), data));
                for child in self.admin.zk().children(&path).await.expect("children") {
                    frontier.push(strand_zk::join(&path, &child));
                }
            }
        }
        out.sort();
        out
    }
}

pub fn bytes(plugin: &str) -> Vec<u8> {
    std::fs::read(plugin_path(plugin).expect("plugin built")).expect("read plugin")
}

/// The component with a custom section of `extra` pseudo-random (so
/// incompressible) bytes appended: still a valid component (same world,
/// same definition), other bytes.
pub fn inflated(plugin: &str, extra: usize) -> Vec<u8> {
    let mut out = bytes(plugin);
    let name = b"strand-test-padding";
    let mut payload = leb128(name.len());
    payload.extend_from_slice(name);
    payload.extend(noise(extra, 0x5a));
    out.push(0); // custom section id
    out.extend(leb128(payload.len()));
    out.extend(payload);
    out
}

fn leb128(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// `len` pseudo-random bytes (xorshift from `seed`): incompressible.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
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
