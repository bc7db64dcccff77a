//! [`Shape`]: what a message asks for, decided once when it is first read
//! (a message's znode is never rewritten by anyone but this session, which
//! never reads its own marks back), so that the passes of the message loop
//! only look at what changes — the current state, busy partitions, slots,
//! plugins and the state model.

use strand_model::{Message, MessageState, MessageType, SessionId};

use crate::engine::Replica;

/// The parts of a state-transition message a pass needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transition {
    /// Resource and partition.
    pub key: Replica,
    /// `FROM_STATE` (`*` for any).
    pub from: String,
    /// `TO_STATE`.
    pub to: String,
    /// `STATE_MODEL_DEF`.
    pub model: String,
    /// `STATE_MODEL_FACTORY_NAME` (`DEFAULT` when absent).
    pub factory: String,
    /// Whether the message was already READ when this session first saw it
    /// (Helix never executes such a message again).
    pub read: bool,
}

/// What a message is to this session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A transition that may run.
    Transition(Box<Transition>),
    /// Never runs: delete it, with this reason (`None`: quietly); the
    /// first field names the reason for metrics (`strand_messages_discarded_total`).
    Discard(&'static str, Option<String>),
}

impl Shape {
    /// Classifies `message` for the session `session`, read at `now_ms`.
    pub(crate) fn of(message: &Message, session: SessionId, now_ms: i64) -> Shape {
        match message.msg_type() {
            Some(MessageType::NoOp) => return Shape::Discard("no_op", None),
            Some(MessageType::StateTransition) => {}
            Some(other) => {
                return Shape::Discard(
                    "unsupported_type",
                    Some(format!("unsupported message type {}", other.as_str())),
                );
            }
            None => return Shape::Discard("no_type", Some("it has no MSG_TYPE".into())),
        }
        if !message.is_for_session(session) {
            let target = message.tgt_session_id().unwrap_or("none");
            return Shape::Discard(
                "other_session",
                Some(format!("it targets session {target}, not {session}")),
            );
        }
        if let Err(err) = message.validate() {
            return Shape::Discard("malformed", Some(format!("it is malformed: {err}")));
        }
        let (Some(resource), Some(partition), Some(from), Some(to), Some(model)) = (
            message.resource_name(),
            message.partition_name(),
            message.from_state(),
            message.to_state(),
            message.state_model_def(),
        ) else {
            return Shape::Discard(
                "malformed",
                Some("it lacks a resource, partition, state or state model".into()),
            );
        };
        let read = match message.msg_state() {
            Some(MessageState::New) => false,
            Some(MessageState::Read) => true,
            other => {
                let state = other.map_or("unknown", |s| s.as_str());
                return Shape::Discard("bad_state", Some(format!("it is in state {state}")));
            }
        };
        // Helix's `HelixTaskExecutor` drops an expired message on receipt
        // (`Message.isExpired`: a relayed one `EXPIRY_PERIOD` after it was
        // relayed): a promotion relayed too late must not run after the
        // controller has moved on.
        if !read && message.is_expired(now_ms) {
            let relayed = message
                .record()
                .simple("RELAY_FROM")
                .filter(|_| message.is_relay_message())
                .map(|from| format!(" (relayed by {from})"))
                .unwrap_or_default();
            return Shape::Discard(
                "expired",
                Some(format!(
                    "it expired{relayed}: EXPIRY_PERIOD {} ms",
                    message.expiry_period()
                )),
            );
        }
        Shape::Transition(Box::new(Transition {
            key: (resource.to_owned(), partition.to_owned()),
            from: from.to_owned(),
            to: to.to_owned(),
            model: model.to_owned(),
            factory: message
                .state_model_factory_name()
                .unwrap_or("DEFAULT")
                .to_owned(),
            read,
        }))
    }
}

#[cfg(test)]
mod tests {
    use strand_model::ZNRecord;

    use super::*;

    const SESSION: SessionId = SessionId(0x1234);
    const NOW: i64 = 10_000;

    fn message(fields: &[(&str, &str)]) -> Message {
        let mut record = ZNRecord::new("m1");
        for (key, value) in [
            ("MSG_TYPE", "STATE_TRANSITION"),
            ("MSG_STATE", "new"),
            ("TGT_NAME", "host_1"),
            ("TGT_SESSION_ID", "1234"),
            ("RESOURCE_NAME", "db"),
            ("PARTITION_NAME", "db_0"),
            ("STATE_MODEL_DEF", "MasterSlave"),
            ("FROM_STATE", "OFFLINE"),
            ("TO_STATE", "SLAVE"),
        ]
        .iter()
        .chain(fields)
        {
            record.set_simple(*key, *value);
        }
        Message::from(record)
    }

    #[test]
    fn a_new_transition_keeps_what_a_pass_needs() {
        let Shape::Transition(t) = Shape::of(&message(&[]), SESSION, NOW) else {
            panic!("a transition");
        };
        assert_eq!(t.key, ("db".to_owned(), "db_0".to_owned()));
        assert_eq!((t.from.as_str(), t.to.as_str()), ("OFFLINE", "SLAVE"));
        assert_eq!(
            (t.model.as_str(), t.factory.as_str()),
            ("MasterSlave", "DEFAULT")
        );
        assert!(!t.read);
        let Shape::Transition(read) = Shape::of(&message(&[("MSG_STATE", "read")]), SESSION, NOW)
        else {
            panic!("a transition");
        };
        assert!(read.read);
    }

    #[test]
    fn what_never_runs_is_discarded_with_the_reason() {
        let reason = |fields: &[(&str, &str)]| match Shape::of(&message(fields), SESSION, NOW) {
            Shape::Discard(_, reason) => reason,
            Shape::Transition(_) => panic!("discarded: {fields:?}"),
        };
        assert_eq!(reason(&[("MSG_TYPE", "NO_OP")]), None);
        assert!(reason(&[("TGT_SESSION_ID", "99")]).is_some_and(|r| r.contains("targets session")));
        assert!(reason(&[("TO_STATE", "")]).is_some_and(|r| r.contains("malformed")));
        assert!(reason(&[("MSG_STATE", "unprocessable")]).is_some_and(|r| r.contains("in state")));
        assert!(reason(&[("MSG_TYPE", "TASK_REPLY")]).is_some_and(|r| r.contains("unsupported")));
        let relayed_late = [
            ("MSG_SUBTYPE", "RELAYED_MESSAGE"),
            ("RELAY_FROM", "host_0"),
            ("RELAY_TIME", "4000"),
            ("EXPIRY_PERIOD", "5000"),
        ];
        assert!(
            reason(&relayed_late).is_some_and(|r| r.contains("expired (relayed by host_0)")),
            "relayed 6 s ago, expiring after 5 s"
        );
        assert!(
            reason(&[("CREATE_TIMESTAMP", "1000"), ("EXPIRY_PERIOD", "2000")])
                .is_some_and(|r| r.contains("expired"))
        );
    }

    #[test]
    fn a_message_within_its_expiry_period_runs() {
        let relayed_in_time = [
            ("MSG_SUBTYPE", "RELAYED_MESSAGE"),
            ("RELAY_FROM", "host_0"),
            ("RELAY_TIME", "6000"),
            ("EXPIRY_PERIOD", "5000"),
        ];
        assert!(matches!(
            Shape::of(&message(&relayed_in_time), SESSION, NOW),
            Shape::Transition(_)
        ));
        assert!(
            matches!(
                Shape::of(&message(&[("CREATE_TIMESTAMP", "1")]), SESSION, NOW),
                Shape::Transition(_)
            ),
            "no EXPIRY_PERIOD: never expires"
        );
    }
}
