//! Private ZooKeeper servers on loopback: the embedded default of
//! `strand quickstart`, and the real servers of the integration tests.
//! One standalone server, or an ensemble, each on free loopback ports in a
//! temp dir.
//!
//! The servers are Debian's `zookeeper` package run directly with `java`
//! (no wrapper scripts), so the owner controls their lifetime exactly:
//! every server is killed when its handle is dropped, including while a
//! test panics. A server can be stopped and restarted on the same port and
//! data dir to simulate an outage.

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Why a local ZooKeeper server could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// `java` could not be started.
    #[error("cannot start ZooKeeper with `java` (install Debian's `zookeeper` package): {0}")]
    Spawn(#[source] std::io::Error),
    /// Preparing the data dir or config failed.
    #[error("cannot prepare the ZooKeeper data dir: {0}")]
    Io(#[from] std::io::Error),
    /// The server process exited while starting.
    #[error("ZooKeeper exited during start-up ({status}); last log lines: {log}")]
    Exited {
        /// Its exit status.
        status: std::process::ExitStatus,
        /// The end of its log.
        log: String,
    },
    /// The server did not become ready in time.
    #[error("ZooKeeper on port {port} was not ready within {deadline:?}; last log lines: {log}")]
    NotReady {
        /// Its client port.
        port: u16,
        /// How long we waited.
        deadline: Duration,
        /// The end of its log.
        log: String,
    },
    /// There is no server with that index.
    #[error("no server {0} in the ensemble")]
    NoSuchServer(usize),
}

type Result<T> = std::result::Result<T, ServerError>;

/// Where Debian installs ZooKeeper's jars.
const ZK_CLASSPATH: &str = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar";
/// How long a server may take to answer `ruok` after starting.
const START_DEADLINE: Duration = Duration::from_secs(30);
/// ZooKeeper's tick; sessions may be as short as two ticks, which keeps
/// session-expiry tests fast.
const TICK_MS: u64 = 200;

/// How the servers' JVMs run. A private server lives for one demo, bench
/// or test, so the JIT's warm-up is a large share of its work: with C2
/// (the default tiered compilation) the compiler threads took about 30 % of
/// the two cores during `strand bench`'s cold convergence; compiling with
/// C1 only made that step 15–20 % faster. Serial GC: one small heap.
const JVM_FLAGS: [&str; 2] = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"];

/// The heap of a server unless told otherwise.
const DEFAULT_HEAP_MIB: u32 = 256;

/// One ZooKeeper server process with its config, data dir and ports.
struct ServerProcess {
    dir: PathBuf,
    client_port: u16,
    heap_mib: u32,
    child: Option<Child>,
}

impl ServerProcess {
    fn start(&mut self) -> Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        let log = fs::File::create(self.dir.join("server.log"))?;
        let child = Command::new("java")
            .arg(format!("-Xmx{}m", self.heap_mib))
            .args(JVM_FLAGS)
            .args(["-cp", ZK_CLASSPATH])
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(self.dir.join("zoo.cfg"))
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(ServerError::Spawn)?;
        self.child = Some(child);
        Ok(())
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn wait_until_serving(&mut self, deadline: Instant) -> Result<()> {
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(ServerError::Exited {
                    status,
                    log: self.log_tail(),
                });
            }
            if four_letter_word(self.client_port, "ruok").as_deref() == Some("imok") {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(ServerError::NotReady {
                    port: self.client_port,
                    deadline: START_DEADLINE,
                    log: self.log_tail(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(5).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends a ZooKeeper four-letter command and returns the answer, if any.
fn four_letter_word(port: u16, word: &str) -> Option<String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    stream.write_all(word.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

/// Reserves a free loopback TCP port (the listener is closed before the
/// server binds it; collisions are possible but rare).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

fn base_config(data_dir: &Path, client_port: u16) -> String {
    format!(
        "tickTime={TICK_MS}\n\
         initLimit=50\n\
         syncLimit=25\n\
         dataDir={}\n\
         clientPort={client_port}\n\
         clientPortAddress=127.0.0.1\n\
         admin.enableServer=false\n\
         4lw.commands.whitelist=*\n\
         maxClientCnxns=0\n\
         minSessionTimeout={}\n\
         maxSessionTimeout=60000\n\
         autopurge.purgeInterval=0\n",
        data_dir.display(),
        2 * TICK_MS,
    )
}

/// A standalone ZooKeeper server on a free loopback port, killed on drop.
///
/// # Assumptions
/// `java` is on the `PATH` and `/usr/share/java/zookeeper.jar` exists
/// (`apt-get install zookeeper`; both README commands install it).
pub struct LocalZk {
    _dir: TempDir,
    server: ServerProcess,
}

impl LocalZk {
    /// Starts a server (256 MiB heap) and waits until it serves requests.
    pub fn start() -> Result<Self> {
        Self::start_with_heap(DEFAULT_HEAP_MIB)
    }

    /// Starts a server whose JVM heap is `heap_mib` MiB (`-Xmx`): how much
    /// data it can hold, since ZooKeeper keeps everything in memory.
    pub fn start_with_heap(heap_mib: u32) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("strand-zk-").tempdir()?;
        let data = dir.path().join("data");
        fs::create_dir_all(&data)?;
        let client_port = free_port()?;
        fs::write(dir.path().join("zoo.cfg"), base_config(&data, client_port))?;
        let mut server = ServerProcess {
            dir: dir.path().to_path_buf(),
            client_port,
            heap_mib,
            child: None,
        };
        server.start()?;
        server.wait_until_serving(Instant::now() + START_DEADLINE)?;
        Ok(Self { _dir: dir, server })
    }

    /// The connect string, `127.0.0.1:<port>`.
    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.server.client_port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.server.client_port
    }

    /// The server's process id while it runs (for `jcmd` and the like).
    pub fn pid(&self) -> Option<u32> {
        self.server.child.as_ref().map(Child::id)
    }

    /// Whether the server answers `ruok` (an out-of-memory server does
    /// not).
    pub fn is_serving(&self) -> bool {
        four_letter_word(self.server.client_port, "ruok").as_deref() == Some("imok")
    }

    /// Kills the server (as `kill -9` would); data stays on disk.
    pub fn stop(&mut self) {
        self.server.stop();
    }

    /// Starts a stopped server again on the same port and data dir.
    pub fn restart(&mut self) -> Result<()> {
        self.server.stop();
        self.server.start()?;
        self.server
            .wait_until_serving(Instant::now() + START_DEADLINE)
    }
}

/// A three-node ZooKeeper ensemble on loopback, every server killed on drop.
pub struct LocalEnsemble {
    _dir: TempDir,
    servers: Vec<ServerProcess>,
}

impl LocalEnsemble {
    /// Starts `size` servers (3 for fault tests) and waits for a quorum.
    pub fn start(size: usize) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("strand-zk-ensemble-")
            .tempdir()?;
        let mut ports = Vec::with_capacity(size);
        for _ in 0..size {
            ports.push((free_port()?, free_port()?, free_port()?));
        }
        let members: String = ports
            .iter()
            .enumerate()
            .map(|(i, (_, peer, election))| {
                format!("server.{}=127.0.0.1:{peer}:{election}\n", i + 1)
            })
            .collect();
        let mut servers = Vec::with_capacity(size);
        for (i, (client, _, _)) in ports.iter().enumerate() {
            let server_dir = dir.path().join(format!("server{}", i + 1));
            let data = server_dir.join("data");
            fs::create_dir_all(&data)?;
            fs::write(data.join("myid"), format!("{}\n", i + 1))?;
            let config = format!("{}{members}", base_config(&data, *client));
            fs::write(server_dir.join("zoo.cfg"), config)?;
            servers.push(ServerProcess {
                dir: server_dir,
                client_port: *client,
                heap_mib: DEFAULT_HEAP_MIB,
                child: None,
            });
        }
        for server in &mut servers {
            server.start()?;
        }
        let deadline = Instant::now() + START_DEADLINE;
        for server in &mut servers {
            server.wait_until_serving(deadline)?;
        }
        let mut ensemble = Self { _dir: dir, servers };
        ensemble.wait_for_quorum(deadline)?;
        Ok(ensemble)
    }

    fn wait_for_quorum(&mut self, deadline: Instant) -> Result<()> {
        loop {
            let serving = self
                .servers
                .iter()
                .filter(|s| s.child.is_some())
                .filter(|s| {
                    four_letter_word(s.client_port, "srvr")
                        .is_some_and(|answer| answer.contains("Mode: "))
                })
                .count();
            let running = self.servers.iter().filter(|s| s.child.is_some()).count();
            if serving == running {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(ServerError::NotReady {
                    port: self.servers.first().map_or(0, |s| s.client_port),
                    deadline: START_DEADLINE,
                    log: format!("ensemble did not form a quorum ({serving}/{running} serving)"),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The connect string of every server, `127.0.0.1:p1,127.0.0.1:p2,…`.
    pub fn connect_string(&self) -> String {
        self.servers
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.client_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The index (0-based) of the server that is the ensemble's leader now
    /// (asked with the `srvr` four-letter word), if one answers as leader.
    pub fn leader(&self) -> Option<usize> {
        self.servers.iter().position(|s| {
            s.child.is_some()
                && four_letter_word(s.client_port, "srvr")
                    .is_some_and(|answer| answer.contains("Mode: leader"))
        })
    }

    /// Kills server `index` (0-based).
    pub fn stop_server(&mut self, index: usize) {
        if let Some(server) = self.servers.get_mut(index) {
            server.stop();
        }
    }

    /// Starts server `index` again and waits until the ensemble serves.
    pub fn restart_server(&mut self, index: usize) -> Result<()> {
        let server = self
            .servers
            .get_mut(index)
            .ok_or(ServerError::NoSuchServer(index))?;
        server.stop();
        server.start()?;
        let deadline = Instant::now() + START_DEADLINE;
        server.wait_until_serving(deadline)?;
        self.wait_for_quorum(deadline)
    }
}
