//! Relay (peer-to-peer) messages, as Helix's participant forwards them
//! (`HelixTask.forwardRelayMessages`): a controller may attach to a
//! demotion the promotion that must follow it — a map field per target
//! instance, listed in `RELAY_PARTICIPANTS`, whose fields are the relayed
//! message (`MSG_SUBTYPE=RELAYED_MESSAGE`, `RELAY_FROM`, `EXPIRY_PERIOD`).
//! Once the demotion succeeded, the participant creates each relayed
//! message at `INSTANCES/<target>/MESSAGES/<its id>` with `RELAY_TIME` set
//! to when the demotion completed, so the promotion starts with no
//! controller round trip in between. Helix creates them right after the
//! demotion's current state is written; Strand creates them in the same
//! multi-op as that write ([`crate::current_state`]), which saves the
//! promotion one ZooKeeper round trip and keeps Helix's order (no
//! promotion is visible before the demotion is); a relayed message the
//! multi-op cannot carry (its target left, or it failed for another
//! reason) is left out of it and, unless it is there already, created
//! afterwards by [`forward`].
//!
//! As in Helix: nothing is forwarded for a message of another session,
//! after a failed transition, or once the relayed message has expired
//! (`RELAY_TIME + EXPIRY_PERIOD`, 5 s as controllers set it), and the
//! target drops a relayed message that arrives expired
//! ([`crate::classify`]). Unlike Helix's single
//! attempt, a create that fails with the session alive is retried with
//! the workspace's backoff until it lands, the message expires or the
//! session ends; a create that finds the message there already is done
//! (the id is the controller's, so forwarding twice cannot duplicate it).
//! The plugin never runs again for it: forwarding is part of the
//! transition's record, outside the run-once path.

use strand_model::time::now_ms;
use strand_model::{Message, PropertyPaths, SessionId};
use strand_zk::{Backoff, CreateKind, Zk, ZkError};
use tracing::{debug, info, warn};

/// `MSG_SUBTYPE` of a relayed message.
const RELAYED_MESSAGE: &str = "RELAYED_MESSAGE";
const RELAY_TIME: &str = "RELAY_TIME";

/// The relayed messages attached to `message` that should go out now:
/// (target instance, message with `RELAY_TIME` set to `completed_ms`).
pub(crate) fn due(
    message: &Message,
    session: SessionId,
    completed_ms: i64,
) -> Vec<(String, Message)> {
    if !message.is_for_session(session) {
        if !message.relay_participants().is_empty() {
            info!(
                message = message.id(),
                "session changed; relay messages ignored"
            );
        }
        return Vec::new();
    }
    message
        .relay_participants()
        .iter()
        .filter_map(|instance| {
            let mut relayed = message.relay_message(instance)?;
            if relayed.msg_subtype() != Some(RELAYED_MESSAGE) {
                return None;
            }
            relayed
                .record_mut()
                .set_simple(RELAY_TIME, completed_ms.to_string());
            Some((instance.clone(), relayed))
        })
        .collect()
}

/// Who triggered a transition, for the current state's `TRIGGERED_BY`:
/// the relaying participant for a relayed message (`RELAY_FROM`), the
/// sender otherwise — as Helix's `HelixStateTransitionHandler` records it.
pub(crate) fn triggered_by(message: &Message) -> &str {
    let relayed = message.msg_subtype() == Some(RELAYED_MESSAGE);
    let from = if relayed {
        message.record().simple("RELAY_FROM")
    } else {
        None
    };
    from.or(message.src_name()).unwrap_or_default()
}

/// Whether a relayed message has expired (`RELAY_TIME + EXPIRY_PERIOD`,
/// a negative period never expires).
fn expired(relayed: &Message, now: i64) -> bool {
    relayed.is_expired(now)
}

/// A relayed message ready to be created at its target.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    /// The target instance.
    pub instance: String,
    /// `INSTANCES/<target>/MESSAGES/<id>`.
    pub path: String,
    /// The encoded record.
    pub data: Vec<u8>,
    /// The message.
    pub message: Message,
}

impl Outgoing {
    /// Whether it expired by `now` (then it is not sent).
    pub(crate) fn expired(&self, now: i64) -> bool {
        expired(&self.message, now)
    }
}

/// Encodes the relayed messages [`due`] returned (one that cannot be
/// encoded is logged and dropped).
pub(crate) fn prepare(paths: &PropertyPaths, relayed: Vec<(String, Message)>) -> Vec<Outgoing> {
    relayed
        .into_iter()
        .filter_map(|(instance, message)| match message.record().to_bytes() {
            Ok(data) => Some(Outgoing {
                path: paths.message(&instance, message.id()),
                instance,
                data,
                message,
            }),
            Err(err) => {
                warn!(message = message.id(), error = %err, "relay message cannot be encoded; not sent");
                None
            }
        })
        .collect()
}

/// Creates each relayed message at its target (see the module docs): the
/// ones the current-state write could not carry.
pub(crate) async fn forward(zk: Zk, relayed: Vec<Outgoing>) {
    for Outgoing {
        instance,
        path,
        data,
        message,
    } in relayed
    {
        let mut backoff = Backoff::default();
        loop {
            if expired(&message, now_ms()) {
                info!(
                    message = message.id(),
                    instance, "relay message expired; not sent"
                );
                break;
            }
            match zk.create(&path, &data, CreateKind::Persistent).await {
                Ok(_) => {
                    debug!(message = message.id(), instance, "relay message sent");
                    break;
                }
                Err(ZkError::NodeExists { .. }) => break,
                Err(err) if err.is_session_expired() => return,
                // The target's MESSAGES is gone: it left the cluster.
                Err(ZkError::NoNode { .. }) => {
                    info!(
                        message = message.id(),
                        instance, "relay target has no MESSAGES; not sent"
                    );
                    break;
                }
                Err(err) => {
                    warn!(message = message.id(), instance, error = %err, "relay message not sent yet; retrying");
                    backoff.wait().await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A demotion with a promotion attached, as Helix's
    /// `Message.attachRelayMessage` writes it.
    fn demotion(session: &str) -> Message {
        let mut m = Message::from(strand_model::ZNRecord::new("demote-1"));
        let r = m.record_mut();
        r.set_simple("MSG_ID", "demote-1");
        r.set_simple("TGT_SESSION_ID", session);
        r.set_list("RELAY_PARTICIPANTS", ["host_2"]);
        let relayed = r.map_mut("host_2");
        relayed.insert("MSG_ID".into(), "promote-1".into());
        relayed.insert("MSG_SUBTYPE".into(), RELAYED_MESSAGE.into());
        relayed.insert("RELAY_FROM".into(), "host_1".into());
        relayed.insert("EXPIRY_PERIOD".into(), "5000".into());
        relayed.insert("TO_STATE".into(), "MASTER".into());
        m
    }

    #[test]
    fn relayed_messages_are_due_for_the_own_session_only_and_expire() {
        let session = SessionId::parse("1a2b").expect("session");
        let due_now = due(&demotion("1a2b"), session, 1_000);
        assert_eq!(due_now.len(), 1);
        let (target, relayed) = &due_now[0];
        assert_eq!(target, "host_2");
        assert_eq!(relayed.id(), "promote-1");
        assert_eq!(relayed.record().simple(RELAY_TIME), Some("1000"));
        assert!(!expired(relayed, 6_000));
        assert!(expired(relayed, 6_001));
        assert!(due(&demotion("ffff"), session, 1_000).is_empty());
    }
}
