//! Relay (P2P) messages, as Helix's controller decides them: whether a
//! resource uses them (`P2P_MESSAGE_ENABLED` — the resource config's
//! value wins, then the cluster config's, default off; Helix's
//! `Resource.isP2PMessageEnabled`), and the relayed messages a pending
//! message carries (which the controller counts as pending for their
//! targets until they arrive or expire, so it never sends a second
//! promotion meanwhile).

use strand_model::{Message, ZNRecord};

use crate::pending::PendingTransition;
use crate::snapshot::Snapshot;

const P2P_MESSAGE_ENABLED: &str = "P2P_MESSAGE_ENABLED";

/// Whether relay messages are sent for `resource`.
pub fn p2p_enabled(snapshot: &Snapshot, resource: &str) -> bool {
    // Java's Boolean.valueOf: "true" in any case is true, anything else false.
    let read = |record: &ZNRecord| {
        record
            .simple(P2P_MESSAGE_ENABLED)
            .map(|v| v.eq_ignore_ascii_case("true"))
    };
    snapshot
        .resource_configs
        .get(resource)
        .and_then(|r| read(r))
        .or_else(|| {
            snapshot
                .cluster_config
                .as_ref()
                .and_then(|c| read(c.record()))
        })
        .unwrap_or(false)
}

/// The relayed messages `message` carries: (target instance, its target
/// session, the transition).
pub fn relayed(message: &Message) -> Vec<(String, Option<String>, PendingTransition)> {
    message
        .relay_participants()
        .iter()
        .filter_map(|instance| {
            let relayed = message.relay_message(instance)?;
            let pending = PendingTransition::from_message(&relayed)?;
            Some((
                instance.clone(),
                relayed.tgt_session_id().map(str::to_owned),
                pending,
            ))
        })
        .collect()
}
