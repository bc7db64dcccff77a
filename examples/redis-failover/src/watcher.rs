//! The independent watcher: asks every redis-server of every partition its
//! `ROLE`, over and over, and counts a partition's masters only when two
//! reads in a row agree on every one of its servers (a handoff caught
//! between two reads would otherwise look like two masters). It shares
//! nothing with Strand: no ZooKeeper, no routing table.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;

use crate::layout::{Layout, REPLICAS};
use crate::redis_io::{Role, connect, role};

/// What the watcher saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Watched {
    /// Consistent samples of one partition (both reads agreed).
    pub samples: u64,
    /// The most masters one partition had in a consistent sample.
    pub max_masters: usize,
    /// The first samples with two masters or more (partition and roles).
    pub violations: Vec<String>,
}

/// The watcher thread; [`Watcher::stop`] ends it.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Watched>>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts watching every server of `layout`.
    pub fn start(layout: &Layout) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Watched::default()));
        let servers: Vec<Vec<u16>> = (0..layout.partitions)
            .map(|k| (0..REPLICAS).map(|n| layout.redis_port(n, k)).collect())
            .collect();
        let thread = std::thread::spawn({
            let (stop, seen) = (Arc::clone(&stop), Arc::clone(&seen));
            move || watch(&servers, &stop, &seen)
        });
        Self {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    /// What it saw so far.
    pub fn seen(&self) -> Watched {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops it; what it saw.
    pub fn stop(mut self) -> Watched {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.seen()
    }
}

fn watch(servers: &[Vec<u16>], stop: &AtomicBool, seen: &Mutex<Watched>) {
    let mut connections: Vec<Vec<Option<redis::Connection>>> = servers
        .iter()
        .map(|ports| ports.iter().map(|_| None).collect())
        .collect();
    let mut read = |k: usize, i: usize, port: u16| -> Role {
        let slot = &mut connections[k][i];
        if slot.is_none() {
            *slot = connect(port).ok();
        }
        let Some(con) = slot.as_mut() else {
            return Role::Down;
        };
        let r = role(con);
        if r == Role::Down {
            *slot = None;
        }
        r
    };
    while !stop.load(Ordering::SeqCst) {
        for (k, ports) in servers.iter().enumerate() {
            let first: Vec<Role> = ports
                .iter()
                .enumerate()
                .map(|(i, &p)| read(k, i, p))
                .collect();
            let second: Vec<Role> = ports
                .iter()
                .enumerate()
                .map(|(i, &p)| read(k, i, p))
                .collect();
            if first != second {
                continue;
            }
            let masters = first.iter().filter(|r| **r == Role::Master).count();
            let mut s = seen.lock().unwrap_or_else(PoisonError::into_inner);
            s.samples += 1;
            s.max_masters = s.max_masters.max(masters);
            if masters > 1 && s.violations.len() < 10 {
                s.violations
                    .push(format!("partition {k}: ports {ports:?} roles {first:?}"));
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
