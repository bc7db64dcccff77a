//! Running admitted transitions (Helix's `HelixTask` +
//! `HelixStateTransitionHandler`): mark read → plugin → current state and
//! message delete.
//!
//! # ZooKeeper cost
//! In steady state a transition costs two write requests: the mark-read
//! (a multi-op shared by every message admitted in the same pass, which
//! also creates the resource's current state when this session has none)
//! and the current-state write (a multi-op shared by every transition of
//! the resource finishing together, carrying the deletes of their
//! messages). No bookkeeping reads: versions are known.
//!
//! # Guarantees
//! * The plugin runs at most once per message, only after the message is
//!   marked READ by this session; a failed step after the plugin is
//!   retried (never the plugin) until it lands or the session ends.
//! * A failed transition still records `ERROR` (with the reason in `INFO`)
//!   and queues an error record (see [`crate::errors`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use strand_metrics::TransitionOutcome;
use strand_model::records::ERROR;
use strand_model::time::now_ms;
use strand_model::{Message, MessageState, ZNRecord};
use strand_plugin_host::{
    CallError, CallOptions, CustomizedStateStore, DEFAULT_DEADLINE, Rejection, TransitionContext,
};
use strand_zk::{Backoff, CreateKind, ZkError};
use tracing::{Instrument, debug, info, warn};

use crate::config::TransitionStep;
use crate::current_state::Recorded;
use crate::customized::DeadlineBound;
use crate::engine::{Admitted, Served, lock};

/// One message of a mark-read batch.
struct Mark {
    run: Admitted,
    /// A write of this mark was sent (its outcome may be unknown).
    attempted: bool,
}

impl Served {
    fn hook(&self, step: TransitionStep, id: &str) {
        if let Some(hook) = &self.config.step_hook {
            (hook.0)(step, id);
        }
    }

    /// Marks the batch read (one multi-op), then runs each transition.
    pub(crate) async fn run_batch(self: Arc<Self>, batch: Vec<Admitted>) {
        for run in &batch {
            self.hook(TransitionStep::BeforeMarkRead, &run.id);
        }
        let marks = batch
            .into_iter()
            .map(|run| Mark {
                run,
                attempted: false,
            })
            .collect();
        for run in self.mark_read(marks).await {
            let this = Arc::clone(&self);
            // Its log lines (and its plugin's output) name the message, so
            // the controller's line that sent it can be found.
            let span = tracing::info_span!(
                "transition",
                resource = %run.key.0,
                partition = %run.key.1,
                msg_id = %run.id
            );
            tokio::spawn(async move { this.execute(run).await }.instrument(span));
        }
    }

    /// Marks every message read; returns those marked (the others are gone
    /// or the session ended, and are finished here).
    async fn mark_read(&self, mut marks: Vec<Mark>) -> Vec<Admitted> {
        let mut backoff = Backoff::new(Duration::from_millis(20), Duration::from_secs(5));
        let mut landed = Vec::new();
        loop {
            if marks.is_empty() {
                return landed;
            }
            let mut multi = self.zk.multi();
            let mut creations: Vec<(String, ZNRecord)> = Vec::new();
            let mut encoded = true;
            for mark in &mut marks {
                let mut message = mark.run.message.clone();
                message.mark_read(now_ms(), self.session);
                match message.record().to_bytes() {
                    Ok(bytes) => {
                        multi.set(
                            self.paths.message(&self.config.instance, &mark.run.id),
                            bytes,
                            Some(mark.run.version),
                        );
                    }
                    Err(_) => encoded = false,
                }
                mark.attempted = true;
                let resource = &mark.run.key.0;
                if !creations.iter().any(|(r, _)| r == resource)
                    && let Some((_, record)) =
                        self.states
                            .creation(resource, &mark.run.model, &mark.run.factory)
                {
                    creations.push((resource.clone(), record));
                }
            }
            for (resource, record) in &creations {
                if let Ok(bytes) = record.to_bytes() {
                    multi.create(
                        self.paths
                            .current_state(&self.config.instance, self.session, resource),
                        bytes,
                        CreateKind::Persistent,
                    );
                }
            }
            if !encoded {
                warn!("a message could not be re-encoded; dropping the batch");
                for mark in marks {
                    self.end(&mark.run);
                }
                return landed;
            }
            match multi.commit().await {
                Ok(()) => {
                    for (resource, record) in creations {
                        self.states.created(&resource, Some(record));
                    }
                    landed.extend(marks.into_iter().map(|m| m.run));
                    return landed;
                }
                Err(ZkError::Multi { index, source, .. }) => {
                    if index < marks.len() {
                        if !self
                            .recheck_mark(&mut marks, &mut landed, index, &source)
                            .await
                        {
                            backoff.wait().await;
                        }
                    } else if let Some((resource, _)) = creations.get(index - marks.len()) {
                        // The record exists after all: read it before use.
                        self.states.created(resource, None);
                    }
                }
                Err(err) if err.is_session_expired() => {
                    for run in marks.into_iter().map(|m| m.run).chain(landed) {
                        self.end(&run);
                    }
                    return Vec::new();
                }
                Err(err) => {
                    warn!(error = %err, "marking messages read failed; retrying");
                    backoff.wait().await;
                }
            }
        }
    }

    /// The mark at `index` failed with `source`: reads that message again
    /// and decides. Returns false when it could not (retry after a delay).
    async fn recheck_mark(
        &self,
        marks: &mut Vec<Mark>,
        landed: &mut Vec<Admitted>,
        index: usize,
        source: &ZkError,
    ) -> bool {
        let id = marks[index].run.id.clone();
        if source.is_no_node() {
            debug!(message = %id, "message vanished before it ran");
            let mark = marks.remove(index);
            self.end(&mark.run);
            return true;
        }
        let path = self.paths.message(&self.config.instance, &id);
        match self.zk.get(&path).await {
            Ok(None) => {
                let mark = marks.remove(index);
                self.end(&mark.run);
                true
            }
            Ok(Some((data, stat))) => {
                let Ok(Some(record)) = ZNRecord::from_bytes(&data) else {
                    let mark = marks.remove(index);
                    warn!(message = %id, "message no longer parses; not running it");
                    self.end(&mark.run);
                    return true;
                };
                let message = Message::from(record);
                let ours = message.exe_session_id() == Some(self.session.to_string().as_str());
                match message.msg_state() {
                    Some(MessageState::Read) if ours && marks[index].attempted => {
                        // An earlier attempt landed (its answer was lost).
                        debug!(message = %id, "mark-read had landed");
                        landed.push(marks.remove(index).run);
                        true
                    }
                    Some(MessageState::New) => {
                        marks[index].run.version = stat.version;
                        marks[index].run.message = message;
                        true
                    }
                    _ => {
                        let mark = marks.remove(index);
                        warn!(message = %id, "message changed under us; not running it");
                        self.end(&mark.run);
                        true
                    }
                }
            }
            Err(err) => {
                warn!(message = %id, error = %err, "re-reading a message failed; retrying");
                false
            }
        }
    }

    /// A transition's task ends without (further) work.
    fn end(&self, run: &Admitted) {
        self.forget(&run.id);
        self.finished(&run.key, run.standing);
    }

    /// The plugin, then the current state with the message's delete.
    async fn execute(self: Arc<Self>, run: Admitted) {
        self.hook(TransitionStep::BeforePlugin, &run.id);
        let (resource, partition) = (run.key.0.as_str(), run.key.1.as_str());
        let start_ms = now_ms();
        let started = Instant::now();
        let mut standing = run.standing;
        let (state, info) = match self.call_plugin(&run, &mut standing).await {
            Ok((note, version)) => {
                info!(
                    instance = %self.config.instance, resource, partition, from = %run.from, to = %run.to,
                    plugin = %run.model, version = %version, "transition done"
                );
                (run.to.clone(), note)
            }
            Err(reason) => {
                warn!(
                    instance = %self.config.instance, resource, partition, from = %run.from, to = %run.to,
                    reason = %reason, "transition failed; partition goes to ERROR"
                );
                self.errors
                    .report(&run.message, &run.from, &run.to, &reason);
                (ERROR.to_owned(), reason)
            }
        };
        self.hook(TransitionStep::BeforeRecord, &run.id);
        let succeeded = state == run.to;
        let end_ms = now_ms();
        let entry = Recorded {
            partition: partition.to_owned(),
            state,
            previous: run.from.clone(),
            start_ms,
            end_ms,
            info,
            triggered_by: crate::relay::triggered_by(&run.message).to_owned(),
        };
        let delete = Some(self.paths.message(&self.config.instance, &run.id));
        // Relay: the promotion attached to this demotion goes out with its
        // record, with no controller round trip (module `relay`).
        let relays = if succeeded {
            crate::relay::prepare(
                &self.paths,
                crate::relay::due(&run.message, self.session, end_ms),
            )
        } else {
            Vec::new()
        };
        match self
            .states
            .commit(resource, &run.model, &run.factory, entry, delete, relays)
            .await
        {
            Ok(unsent) => {
                self.hook(TransitionStep::Done, &run.id);
                let outcome = if succeeded {
                    TransitionOutcome::Ok
                } else {
                    TransitionOutcome::Error
                };
                strand_metrics::global().participant.transition_done(
                    &run.model,
                    &run.from,
                    &run.to,
                    outcome,
                    started.elapsed(),
                );
                if !unsent.is_empty() {
                    tokio::spawn(crate::relay::forward(self.zk.clone(), unsent).in_current_span());
                }
            }
            Err(err) => {
                debug!(message = %run.id, error = %err, "session over before the transition was recorded");
            }
        }
        self.forget(&run.id);
        self.finished(&run.key, standing);
    }

    /// Runs the plugin (retrying `retryable` rejections); the note and the
    /// serving version, or the failure's reason. A call running past the
    /// straggler threshold gives its active slot back.
    async fn call_plugin(
        &self,
        run: &Admitted,
        standing: &mut crate::scheduler::Standing,
    ) -> Result<(String, String), String> {
        let context = TransitionContext {
            cluster: self.config.cluster.clone(),
            instance: self.config.instance.clone(),
            resource: run.key.0.clone(),
            partition: run.key.1.clone(),
            from_state: run.from.clone(),
            to_state: run.to.clone(),
            message_id: run.message.msg_id().to_owned(),
            config: self.lookups.resource_config(&run.key.0),
        };
        let deadline = run
            .message
            .timeout()
            .filter(|t| *t > 0)
            .map(|t| Duration::from_millis(u64::try_from(t).unwrap_or(u64::MAX)));
        let straggler_at = tokio::time::Instant::now() + self.config.straggler_after;
        let mut attempt = 0;
        loop {
            let Some(handle) = self.registry.state_model(&run.model) else {
                return Err(format!("no plugin serves state model {}", run.model));
            };
            let ends = Instant::now() + deadline.unwrap_or(DEFAULT_DEADLINE);
            let options = CallOptions {
                deadline,
                customized_state: Some(Arc::new(DeadlineBound::new(
                    Arc::clone(&self.provider),
                    ends,
                )) as Arc<dyn CustomizedStateStore>),
                instance: Some(self.config.address.clone()),
                routing: self.routing.lookup_for(&handle).await,
            };
            let context = context.clone();
            let span = tracing::Span::current();
            let call = tokio::task::spawn_blocking(move || {
                span.in_scope(|| handle.transition(&context, &options))
            });
            tokio::pin!(call);
            let result = loop {
                tokio::select! {
                    result = &mut call => break result,
                    () = tokio::time::sleep_until(straggler_at), if *standing != crate::scheduler::Standing::Straggler => {
                        *standing = lock(&self.slots).demote(*standing);
                        debug!(message = %run.id, "plugin call is a straggler; its slot goes to others");
                        self.wake.notify_one();
                    }
                }
            };
            match result {
                Ok(Ok(outcome)) => return Ok((outcome.note, outcome.version.version.clone())),
                Ok(Err(CallError::Rejected {
                    kind: Rejection::Retryable,
                    message,
                })) if attempt < self.config.retry_limit => {
                    attempt += 1;
                    debug!(attempt, reason = %message, "plugin asked for a retry");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                Ok(Err(err)) => return Err(err.to_string()),
                Err(join) => return Err(format!("plugin call panicked: {join}")),
            }
        }
    }
}
