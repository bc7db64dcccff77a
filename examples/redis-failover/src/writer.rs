//! A client of the Redis cluster: writes through the routing table (the
//! partition's MASTER in the external view, its Redis port from the
//! instance's port), remembers every write Redis acknowledged, and checks
//! later that each one is readable from the partition's MASTER then.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use strand_spectator::{RoutingSnapshot, RoutingTableProvider};

use crate::layout::{Layout, RESOURCE};
use crate::redis_io::connect;

/// One acknowledged write.
#[derive(Debug, Clone)]
struct Acked {
    partition: u32,
    key: String,
    value: String,
}

/// What the writer did since the last [`Writer::take`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct Written {
    /// Writes Redis acknowledged.
    pub acked: usize,
    /// Writes refused or unanswered (no MASTER, a demoted one, a dead one).
    pub failed: usize,
    /// The longest time one partition went without an acknowledged write.
    pub longest_gap_ms: u64,
    /// Acknowledged writes whose check could not be made: the MASTER did
    /// not answer the read (after retries). Neither lost nor confirmed.
    pub unverified: usize,
}

struct Shared {
    acked: Vec<Acked>,
    written: Written,
}

/// The writer thread.
pub struct Writer {
    stop: Arc<AtomicBool>,
    shared: Arc<Mutex<Shared>>,
    routes: Arc<RoutingTableProvider>,
    layout: Layout,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts writing to every partition of `layout`.
    pub fn start(layout: &Layout, routes: Arc<RoutingTableProvider>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Mutex::new(Shared {
            acked: Vec::new(),
            written: Written::default(),
        }));
        let thread = std::thread::spawn({
            let (stop, shared, routes, layout) = (
                Arc::clone(&stop),
                Arc::clone(&shared),
                Arc::clone(&routes),
                layout.clone(),
            );
            move || write(&layout, &routes, &stop, &shared)
        });
        Self {
            stop,
            shared,
            routes,
            layout: layout.clone(),
            thread: Some(thread),
        }
    }

    /// What it wrote since the last call, and the acknowledged writes
    /// among them that are not readable from their partition's MASTER now
    /// (`key`s of the first few, and how many).
    pub fn take(&self) -> (Written, Vec<String>, usize) {
        let (acked, written) = {
            let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
            let written = std::mem::take(&mut shared.written);
            (std::mem::take(&mut shared.acked), written)
        };
        let snapshot = self.routes.load();
        let mut written = written;
        let mut lost = 0;
        let mut examples = Vec::new();
        let mut readers: Vec<Reader> = (0..self.layout.partitions)
            .map(|k| Reader::new(master_port(&snapshot, &self.layout, k)))
            .collect();
        for a in &acked {
            match readers[a.partition as usize].get(&a.key) {
                Some(value) if value.as_deref() == Some(a.value.as_str()) => {}
                Some(_) => {
                    lost += 1;
                    if examples.len() < 5 {
                        examples.push(format!("partition {}: {}", a.partition, a.key));
                    }
                }
                None => written.unverified += 1,
            }
        }
        (written, examples, lost)
    }

    /// Stops writing.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads back one partition's keys from its MASTER over one connection,
/// reconnecting and retrying when a read fails: a slow answer is not a
/// lost write.
struct Reader {
    port: Option<u16>,
    con: Option<redis::Connection>,
}

impl Reader {
    /// Tries to read from the server on `port`.
    const ATTEMPTS: u32 = 5;

    fn new(port: Option<u16>) -> Self {
        Self { port, con: None }
    }

    /// The key's value (`Some(None)`: no such key), or `None` when the
    /// server could not be asked.
    fn get(&mut self, key: &str) -> Option<Option<String>> {
        let port = self.port?;
        for attempt in 0..Self::ATTEMPTS {
            if self.con.is_none() {
                self.con = connect(port).ok();
            }
            if let Some(con) = self.con.as_mut() {
                match redis::cmd("GET").arg(key).query::<Option<String>>(con) {
                    Ok(value) => return Some(value),
                    Err(_) => self.con = None,
                }
            }
            std::thread::sleep(Duration::from_millis(50 * u64::from(attempt + 1)));
        }
        None
    }
}

/// The Redis port of partition `k`'s MASTER, from the routing table.
pub fn master_port(snapshot: &RoutingSnapshot, layout: &Layout, k: u32) -> Option<u16> {
    let partition = Layout::partition(k);
    let master = snapshot.instances(RESOURCE, &partition, "MASTER").first()?;
    let helix_port: u16 = snapshot.instance_config(master)?.port()?.parse().ok()?;
    Some(layout.redis_port_of(helix_port, k))
}

fn write(
    layout: &Layout,
    routes: &RoutingTableProvider,
    stop: &AtomicBool,
    shared: &Mutex<Shared>,
) {
    let mut last_ok: Vec<Instant> = (0..layout.partitions).map(|_| Instant::now()).collect();
    let mut connections: Vec<Option<(u16, redis::Connection)>> =
        (0..layout.partitions).map(|_| None).collect();
    let mut seq: u64 = 0;
    while !stop.load(Ordering::SeqCst) {
        let snapshot = routes.load();
        for k in 0..layout.partitions {
            seq += 1;
            let (key, value) = (format!("k{k}:{seq}"), format!("v{seq}"));
            let slot = &mut connections[k as usize];
            let port = master_port(&snapshot, layout, k);
            if slot.as_ref().map(|(p, _)| *p) != port {
                *slot = port.and_then(|p| connect(p).ok().map(|c| (p, c)));
            }
            let ok = slot.as_mut().is_some_and(|(_, con)| {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&value)
                    .query::<String>(con)
                    .is_ok()
            });
            let mut s = shared.lock().unwrap_or_else(PoisonError::into_inner);
            if ok {
                let gap = last_ok[k as usize].elapsed();
                s.written.longest_gap_ms = s
                    .written
                    .longest_gap_ms
                    .max(u64::try_from(gap.as_millis()).unwrap_or(u64::MAX));
                last_ok[k as usize] = Instant::now();
                s.written.acked += 1;
                s.acked.push(Acked {
                    partition: k,
                    key,
                    value,
                });
            } else {
                s.written.failed += 1;
                *slot = None;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
