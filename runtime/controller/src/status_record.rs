//! The leader's status record, `/<C>/PROPERTYSTORE/STRAND/CONTROLLER`:
//! who leads and what its last pipeline run did, for readers outside the
//! controller's process (the web console of `strand rest`, scripts). Helix
//! never looks there (it is the application area of the property store).
//!
//! One ZNRecord, id `CONTROLLER`; simple fields `LEADER`, `SESSION`,
//! `RUNS`, `LAST_RUN_AT` (ms since the epoch), `LAST_RUN_EVENT`,
//! `LAST_RUN_RESOURCES`, `LAST_RUN_SENT`, `LAST_RUN_COMPUTE_MS`,
//! `LAST_RUN_TOTAL_MS`, `PENDING_MESSAGES`, `CONVERGED`, `LAST_ERROR`
//! (while the last attempt failed); map `HELD_BACK`: resource → reason.
//!
//! Written by the leader only, at most once per [`WRITE_INTERVAL`] — at
//! once when what it says about the cluster changes (converged or not, the
//! resources held back, the last error, a new leadership). A failed write
//! leaves the record due and is retried with backoff; the record written is
//! always the latest, never a queue of old ones.

use std::time::Duration;

use strand_model::PropertyPaths;
use strand_model::ZNRecord;
use strand_zk::{Backoff, Zk};
use tokio::time::Instant;
use tracing::debug;

use crate::controller::Status;

/// Least time between two writes of routine changes (run counters).
pub(crate) const WRITE_INTERVAL: Duration = Duration::from_secs(1);

/// The record's path below the cluster root.
pub const STATUS_RECORD: &str = "PROPERTYSTORE/STRAND/CONTROLLER";

/// What makes a write urgent when it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Headline {
    converged: bool,
    held_back: Vec<(String, String)>,
    last_error: Option<String>,
}

/// The leader's writer of the status record (one per leadership).
#[derive(Debug)]
pub(crate) struct StatusRecord {
    path: String,
    leader: String,
    session: String,
    /// The latest record not yet written, and whether it is urgent.
    due: Option<(ZNRecord, bool)>,
    written: Option<Headline>,
    written_at: Option<Instant>,
    retry_at: Option<Instant>,
    backoff: Backoff,
}

impl StatusRecord {
    pub(crate) fn new(paths: &PropertyPaths, leader: &str, session: String) -> Self {
        Self {
            path: format!("{}/{STATUS_RECORD}", paths.cluster()),
            leader: leader.to_owned(),
            session,
            due: None,
            written: None,
            written_at: None,
            retry_at: None,
            backoff: Backoff::default(),
        }
    }

    /// Takes the controller's status after a run (or a failed attempt).
    pub(crate) fn update(&mut self, status: &Status) {
        let headline = headline(status);
        let urgent = self.written.as_ref() != Some(&headline);
        let record = self.record(status, &headline);
        let urgent = urgent || self.due.as_ref().is_some_and(|(_, urgent)| *urgent);
        self.due = Some((record, urgent));
    }

    /// When the due record should be written (`None`: nothing is due).
    pub(crate) fn next_due(&self) -> Option<Instant> {
        let (_, urgent) = self.due.as_ref()?;
        let by_interval = match (urgent, self.written_at) {
            (false, Some(at)) => at + WRITE_INTERVAL,
            _ => Instant::now(),
        };
        Some(match self.retry_at {
            Some(retry) => retry.max(by_interval),
            None => by_interval,
        })
    }

    /// Writes the due record if its time has come; a failure leaves it due.
    pub(crate) async fn write_if_due(&mut self, zk: &Zk) {
        if self.next_due().is_none_or(|at| at > Instant::now()) {
            return;
        }
        let Some((record, _)) = self.due.take() else {
            return;
        };
        match self.write(zk, &record).await {
            Ok(()) => {
                self.backoff.reset();
                self.retry_at = None;
                self.written_at = Some(Instant::now());
                self.written = Some(headline_of(&record));
            }
            Err(err) => {
                debug!(path = self.path, error = %err, "status record not written; retrying");
                self.retry_at = Some(Instant::now() + self.backoff.next_delay());
                self.due = Some((record, true));
            }
        }
    }

    async fn write(&self, zk: &Zk, record: &ZNRecord) -> strand_zk::Result<()> {
        let data = record.to_json_bytes();
        match zk.set(&self.path, &data, None).await {
            Ok(_) => Ok(()),
            Err(err) if err.is_no_node() => {
                zk.create_all(&self.path).await?;
                zk.set(&self.path, &data, None).await.map(|_| ())
            }
            Err(err) => Err(err),
        }
    }

    fn record(&self, status: &Status, headline: &Headline) -> ZNRecord {
        let mut record = ZNRecord::new("CONTROLLER");
        record.set_simple("LEADER", self.leader.clone());
        record.set_simple("SESSION", self.session.clone());
        record.set_simple("RUNS", status.runs.to_string());
        record.set_simple("CONVERGED", headline.converged.to_string());
        if let Some(run) = &status.last_run {
            record.set_simple("LAST_RUN_AT", strand_model::time::now_ms().to_string());
            record.set_simple("LAST_RUN_EVENT", run.event);
            record.set_simple("LAST_RUN_RESOURCES", run.resources.to_string());
            record.set_simple("LAST_RUN_SENT", run.sent.to_string());
            record.set_simple("LAST_RUN_COMPUTE_MS", millis(run.compute));
            record.set_simple("LAST_RUN_TOTAL_MS", millis(run.total));
            record.set_simple("PENDING_MESSAGES", run.pending.to_string());
        }
        if let Some(error) = &headline.last_error {
            record.set_simple("LAST_ERROR", error.clone());
        }
        let held_back = record.map_mut("HELD_BACK");
        for (resource, why) in &headline.held_back {
            held_back.insert(resource.clone(), why.clone());
        }
        record
    }
}

fn headline(status: &Status) -> Headline {
    Headline {
        converged: status.last_run.as_ref().is_some_and(|run| run.converged),
        held_back: status
            .last_run
            .as_ref()
            .map(|run| run.held_back.clone())
            .unwrap_or_default(),
        last_error: status.last_error.clone(),
    }
}

fn headline_of(record: &ZNRecord) -> Headline {
    Headline {
        converged: record.simple_bool("CONVERGED").unwrap_or(false),
        held_back: record
            .map("HELD_BACK")
            .map(|held| {
                held.iter()
                    .map(|(r, why)| (r.clone(), why.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        last_error: record.simple("LAST_ERROR").map(str::to_owned),
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::Role;

    fn status(converged: bool, runs: u64) -> Status {
        Status {
            role: Role::Leader,
            session: Some("1".into()),
            runs,
            last_run: Some(crate::pipeline::RunReport {
                event: "CurrentStateChange",
                requested: 0,
                resources: 1,
                partitions: 1,
                sent: 2,
                deleted: 0,
                views_written: 0,
                views_removed: 0,
                pending: 2,
                converged,
                held_back: vec![("db".into(), "IdealState does not parse".into())],
                compute: Duration::from_micros(1500),
                total: Duration::from_millis(3),
            }),
            messages_sent: 2,
            compute_time: Duration::ZERO,
            last_error: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn routine_changes_wait_for_the_interval_and_headlines_do_not() {
        let mut writer = StatusRecord::new(&PropertyPaths::new("C"), "ctl", "1".into());
        writer.update(&status(false, 1));
        let first = writer.next_due().expect("due");
        assert!(first <= Instant::now(), "the first record is urgent");
        let (record, _) = writer.due.clone().expect("due");
        assert_eq!(record.simple("LAST_RUN_SENT"), Some("2"));
        assert_eq!(record.simple("LAST_RUN_COMPUTE_MS"), Some("1.500"));
        assert_eq!(
            record
                .map("HELD_BACK")
                .and_then(|m| m.get("db"))
                .map(String::as_str),
            Some("IdealState does not parse")
        );
        // As if written now.
        writer.due = None;
        writer.written = Some(headline_of(&record));
        writer.written_at = Some(Instant::now());

        writer.update(&status(false, 2));
        let routine = writer.next_due().expect("due");
        assert_eq!(
            routine,
            writer.written_at.expect("written") + WRITE_INTERVAL
        );

        writer.update(&status(true, 3));
        assert!(
            writer.next_due().expect("due") <= Instant::now(),
            "converging is news"
        );
        let (latest, urgent) = writer.due.clone().expect("due");
        assert!(urgent);
        assert_eq!(latest.simple("RUNS"), Some("3"), "only the latest is kept");
    }
}
