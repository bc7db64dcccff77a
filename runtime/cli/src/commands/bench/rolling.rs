//! `strand bench --rolling-restart`: every participant of a converged
//! `--partitions` × 3 MasterSlave cluster restarted in turn (stop, start a
//! new session, wait until every MASTER is back on its preferred
//! instance) — with the drain a SIGTERM does first and relay (P2P)
//! messages, with the drain only, and without either — measuring how long
//! partitions go without a MASTER.
//!
//! The participants run in this process and are stopped through the same
//! graceful path `strand participant` takes on SIGTERM
//! (`Participant::drain`, then `Participant::shutdown`): separate processes
//! would add a plugin load per restart and compete for the same two cores
//! without changing what is measured — the handoff between sessions.
//!
//! [`MasterGaps`] is the watcher: its own ZooKeeper session and a watched
//! cache of the LiveInstances and every instance's current states; each
//! time a partition has no MASTER in any live instance's current session
//! it opens a window, closed when a MASTER shows again. Each window is
//! measured twice: by the watcher's clock (when it saw the changes), and
//! from the current-state timestamps (the demoted replica's `START_TIME`,
//! or the departure as the watcher saw it, to the new MASTER's
//! `END_TIME`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{Value, json};
use strand_model::time::now_ms;
use strand_model::{CurrentState, PropertyPaths};
use strand_zk::{TreeCache, Zk};

use super::cluster::{BenchCluster, percentile};

const MASTER: &str = "MASTER";

/// One partition's open window: since when it has had no MASTER, and who
/// held it.
#[derive(Debug, Clone)]
struct Open {
    seen: Instant,
    from_timestamps_ms: i64,
    old: String,
}

/// Which part of a restart a window belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// The MASTER left the restarting instance.
    Away,
    /// The MASTER came back to it.
    Back,
    /// Neither (another instance's MASTER moved).
    Other,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Away => "away_from_the_restarting_instance",
            Phase::Back => "back_to_it",
            Phase::Other => "elsewhere",
        }
    }
}

#[derive(Debug, Default)]
struct Gaps {
    /// Partition → who holds MASTER now, with its record's START_TIME.
    masters: HashMap<String, (String, i64)>,
    open: HashMap<String, Open>,
    /// Partition → longest window (watcher's clock, timestamps), ms.
    longest: BTreeMap<String, (f64, f64)>,
    /// The same per phase of the restart (watcher's clock).
    by_phase: BTreeMap<Phase, BTreeMap<String, f64>>,
    windows: usize,
    /// The instance being restarted.
    restarting: Option<String>,
}

impl Gaps {
    fn phase(&self, old: &str, new: &str) -> Phase {
        match &self.restarting {
            Some(r) if r == old => Phase::Away,
            Some(r) if r == new => Phase::Back,
            _ => Phase::Other,
        }
    }
}

/// The no-MASTER watcher of one resource (see the module docs).
pub(super) struct MasterGaps {
    gaps: Arc<Mutex<Gaps>>,
    task: tokio::task::JoinHandle<()>,
    _instances: TreeCache,
    _live: TreeCache,
}

impl MasterGaps {
    pub async fn start(connect: &str, cluster: &str, resource: &str) -> Result<Self> {
        let zk = Zk::connect_to(connect)
            .await
            .context("the watcher's session")?;
        let paths = PropertyPaths::new(cluster);
        let instances = TreeCache::start(zk.clone(), &paths.instances()).await?;
        let live = TreeCache::start(zk, &paths.live_instances()).await?;
        let gaps = Arc::new(Mutex::new(Gaps::default()));
        let (shared, cache_i, cache_l) = (Arc::clone(&gaps), instances.clone(), live.clone());
        let resource = resource.to_owned();
        let task = tokio::spawn(async move {
            let mut a = cache_i.generation();
            let mut b = cache_l.generation();
            loop {
                observe(&shared, &paths, &cache_i, &cache_l, &resource);
                tokio::select! {
                    r = a.changed() => if r.is_err() { return },
                    r = b.changed() => if r.is_err() { return },
                }
            }
        });
        Ok(Self {
            gaps,
            task,
            _instances: instances,
            _live: live,
        })
    }

    /// Forgets what was measured (keeps following who is MASTER).
    pub fn reset(&self) {
        let mut gaps = lock(&self.gaps);
        gaps.longest.clear();
        gaps.by_phase.clear();
        gaps.windows = 0;
    }

    /// Windows from now on belong to the restart of `instance`.
    pub fn restarting(&self, instance: Option<String>) {
        lock(&self.gaps).restarting = instance;
    }

    /// Per-partition longest windows so far, summarised.
    pub fn figures(&self, partitions: u32) -> Value {
        let gaps = lock(&self.gaps);
        let summary = |pick: fn(&(f64, f64)) -> f64| {
            // Partitions that never lost their MASTER count as 0 ms.
            let mut longest: Vec<f64> = gaps.longest.values().map(pick).collect();
            longest.resize(partitions as usize, 0.0);
            longest.sort_by(f64::total_cmp);
            json!({
                "p50": percentile(&longest, 0.50),
                "p99": percentile(&longest, 0.99),
                "max": longest.last().copied().unwrap_or(0.0),
            })
        };
        let by_phase: serde_json::Map<String, Value> = gaps
            .by_phase
            .iter()
            .map(|(phase, longest)| {
                let mut longest: Vec<f64> = longest.values().copied().collect();
                longest.sort_by(f64::total_cmp);
                let figures = json!({
                    "partitions": longest.len(),
                    "p50": percentile(&longest, 0.50),
                    "p99": percentile(&longest, 0.99),
                    "max": longest.last().copied().unwrap_or(0.0),
                });
                (phase.name().to_owned(), figures)
            })
            .collect();
        json!({
            "longest_window_by_phase_ms": by_phase,
            "windows_without_master": gaps.windows,
            "partitions_that_lost_their_master": gaps.longest.len(),
            "still_open": gaps.open.len(),
            "longest_window_per_partition_ms": {
                "watcher": summary(|w| w.0),
                "current_state_timestamps": summary(|w| w.1),
            },
        })
    }
}

impl Drop for MasterGaps {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(gaps: &Mutex<Gaps>) -> std::sync::MutexGuard<'_, Gaps> {
    gaps.lock().unwrap_or_else(|p| p.into_inner())
}

/// One look at the caches: who is MASTER of each partition now.
fn observe(
    gaps: &Mutex<Gaps>,
    paths: &PropertyPaths,
    instances: &TreeCache,
    live: &TreeCache,
    resource: &str,
) {
    let seen = Instant::now();
    let now = now_ms();
    // Partition → (master, its START_TIME, its END_TIME); and every
    // non-MASTER replica's START_TIME (when a demotion began).
    let mut masters: HashMap<String, (String, i64, i64)> = HashMap::new();
    let mut started: HashMap<(String, String), i64> = HashMap::new();
    for instance in live.children(&paths.live_instances()) {
        let Some(session) = live
            .get(&paths.live_instance(&instance))
            .and_then(|n| n.ephemeral_owner())
        else {
            continue;
        };
        let Some(record) = instances.record(&paths.current_state(&instance, &session, resource))
        else {
            continue;
        };
        let current = CurrentState::from((*record).clone());
        for (partition, state) in current.partition_states() {
            let start = current.start_time(partition).unwrap_or(now);
            if state == MASTER {
                let end = current.end_time(partition).unwrap_or(now);
                masters.insert(partition.to_owned(), (instance.clone(), start, end));
            } else {
                started.insert((partition.to_owned(), instance.clone()), start);
            }
        }
    }
    let mut gaps = lock(gaps);
    let known: Vec<String> = gaps.masters.keys().cloned().collect();
    for partition in known {
        if masters.contains_key(&partition) || gaps.open.contains_key(&partition) {
            continue;
        }
        // Lost its MASTER: since the demotion began (or, when the master
        // left without one, now).
        let (old, _) = gaps.masters[&partition].clone();
        let from = started
            .get(&(partition.clone(), old.clone()))
            .copied()
            .unwrap_or(now);
        gaps.open.insert(
            partition,
            Open {
                seen,
                from_timestamps_ms: from.min(now),
                old,
            },
        );
    }
    for (partition, (instance, start, end)) in masters {
        let window = match gaps.open.remove(&partition) {
            Some(open) => Some((
                seen.duration_since(open.seen).as_secs_f64() * 1e3,
                (end - open.from_timestamps_ms).max(0) as f64,
                open.old,
            )),
            // A handoff the watcher saw in one look: the timestamps still
            // tell how long it took.
            None => gaps
                .masters
                .get(&partition)
                .filter(|(old, _)| *old != instance)
                .and_then(|(old, _)| {
                    let demoted = started.get(&(partition.clone(), old.clone()))?;
                    Some((0.0, (end - demoted).max(0) as f64, old.clone()))
                }),
        };
        if let Some((watcher, stamps, old)) = window {
            gaps.windows += 1;
            let longest = gaps.longest.entry(partition.clone()).or_insert((0.0, 0.0));
            longest.0 = longest.0.max(watcher);
            longest.1 = longest.1.max(stamps);
            let phase = gaps.phase(&old, &instance);
            let longest = gaps
                .by_phase
                .entry(phase)
                .or_default()
                .entry(partition.clone())
                .or_insert(0.0);
            *longest = longest.max(watcher);
        }
        gaps.masters.insert(partition, (instance, start));
    }
}

/// Restarts every participant in turn, with or without the drain; the
/// figures of the round.
pub(super) async fn round(
    bench: &BenchCluster,
    transitions: impl Fn() -> u64,
    watcher: &MasterGaps,
    participants: usize,
    partitions: u32,
    drain: Option<Duration>,
    step: Duration,
) -> Result<Value> {
    bench.wait_masters_preferred("db", partitions, step).await?;
    watcher.reset();
    let sent = transitions();
    let started = Instant::now();
    let mut restarts = Vec::new();
    for index in 0..participants {
        let at = Instant::now();
        watcher.restarting(bench.participant_name(index).await);
        let name = bench.restart_one(index, drain).await?;
        bench
            .wait_masters_preferred("db", partitions, step)
            .await
            .with_context(|| format!("after restarting {name}"))?;
        restarts.push(at.elapsed().as_secs_f64());
    }
    watcher.restarting(None);
    let mut figures = watcher.figures(partitions);
    figures["drain"] = json!(drain.map(|d| format!("{} s timeout", d.as_secs_f64())));
    figures["transitions"] = json!(transitions() - sent);
    figures["total_s"] = json!(started.elapsed().as_secs_f64());
    figures["per_restart_s"] = json!(restarts);
    Ok(figures)
}
