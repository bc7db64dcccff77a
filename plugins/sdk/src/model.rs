//! State models with their own logic: the [`StateModel`] trait, the
//! [`Transition`] context a callback gets, and typed errors.

use crate::bindings::state_model::strand::statemodel::customized_state as wit_customized;
use crate::bindings::state_model::strand::statemodel::types::TransitionContext;
use crate::fields::{self, Fields};
use crate::host::{self, Level};

pub use crate::bindings::state_model::strand::statemodel::customized_state::StateError;
pub use crate::bindings::state_model::strand::statemodel::types::{
    CountBound as Count, ModelDefinition, StateDef, TransitionDef, TransitionError,
};

/// A Helix state model: its definition and what a replica does on each
/// transition. Export it with [`export_state_model!`](crate::export_state_model).
///
/// [`ModelSpec`](crate::ModelSpec) implements it with Helix's usual
/// behaviour; a model with logic of its own implements it directly, and may
/// call a `ModelSpec`'s methods for the parts it does not change.
pub trait StateModel {
    /// The model's definition. Must be pure: the host calls it when loading
    /// the plugin and compares it across versions.
    fn definition(&self) -> ModelDefinition;

    /// Performs one transition of one replica; `Ok` carries a short note for
    /// the transition's status update (may be empty).
    ///
    /// # Errors
    /// [`TransitionError::Fatal`] sends the partition to ERROR,
    /// [`TransitionError::Retryable`] lets the host try again later,
    /// [`TransitionError::IllegalTransition`] reports a pair the model does
    /// not allow.
    fn transition(&self, t: &Transition) -> Result<String, TransitionError>;
}

impl TransitionError {
    /// The replica cannot continue: the host puts the partition in ERROR.
    pub fn fatal(message: impl Into<String>) -> Self {
        Self::Fatal(message.into())
    }

    /// A transient failure: the host may retry the transition.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::Retryable(message.into())
    }

    /// The model does not allow this from/to pair.
    pub fn illegal(message: impl Into<String>) -> Self {
        Self::IllegalTransition(message.into())
    }

    /// Whether the host may retry the transition.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
    }

    /// The message, whatever the case.
    pub fn message(&self) -> &str {
        match self {
            Self::Fatal(m) | Self::Retryable(m) | Self::IllegalTransition(m) => m,
        }
    }
}

/// A customized-state failure as a transition failure: the store being
/// unreachable is [`TransitionError::Retryable`], a refused operation is
/// [`TransitionError::Fatal`] (retrying would be refused again).
impl From<StateError> for TransitionError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Unavailable(m) => Self::Retryable(format!("customized state: {m}")),
            StateError::NotPermitted(m) => Self::Fatal(format!("customized state: {m}")),
        }
    }
}

/// One transition of one replica, as the host asked for it, with the host's
/// services at hand.
#[derive(Debug, Clone)]
pub struct Transition {
    ctx: TransitionContext,
}

impl Transition {
    pub(crate) fn new(ctx: TransitionContext) -> Self {
        Self { ctx }
    }

    /// The cluster's name.
    pub fn cluster(&self) -> &str {
        &self.ctx.cluster
    }

    /// The participant instance running the transition (e.g. `host_12000`).
    pub fn instance(&self) -> &str {
        &self.ctx.instance
    }

    /// The resource the partition belongs to.
    pub fn resource(&self) -> &str {
        &self.ctx.resource
    }

    /// The partition, e.g. `db_3`.
    pub fn partition(&self) -> &str {
        &self.ctx.partition
    }

    /// The replica's current state.
    pub fn from_state(&self) -> &str {
        &self.ctx.from_state
    }

    /// The state the controller asked for.
    pub fn to_state(&self) -> &str {
        &self.ctx.to_state
    }

    /// The id of the Helix message that asked for the transition.
    pub fn message_id(&self) -> &str {
        &self.ctx.message_id
    }

    /// The value of `key` in the resource's configuration (simple fields of
    /// its ResourceConfig and IdealState), if set.
    pub fn config(&self, key: &str) -> Option<&str> {
        fields::lookup(&self.ctx.config, key)
    }

    /// `template` with `{host}` and `{port}` replaced by this instance's
    /// host and port, as its name gives them (`host_port`; an instance
    /// name without `_` is all host, with an empty port) — the same
    /// placeholders a network grant takes, so one resource config
    /// (`NOTIFY_URL = http://{host}:{port}/hooks`) reaches each node's own
    /// application.
    pub fn fill_in(&self, template: &str) -> String {
        fill_in(template, self.instance())
    }

    /// The whole resource configuration, in no particular order.
    pub fn config_entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.ctx
            .config
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The other replicas of this partition in `state` (any state when
    /// `None`), from the participant's routing table ([`crate::routing`]);
    /// this instance is left out.
    pub fn peers(&self, state: Option<&str>) -> Vec<crate::Replica> {
        let mut replicas = crate::routing::replicas(self.resource(), self.partition(), state);
        replicas.retain(|r| r.instance != self.instance());
        replicas
    }

    /// This replica's customized state of type `state_type` (Helix's
    /// `CustomizedStateProvider` for this resource and partition).
    pub fn customized_state<'a>(&'a self, state_type: &'a str) -> CustomizedState<'a> {
        CustomizedState {
            state_type,
            resource: &self.ctx.resource,
            partition: &self.ctx.partition,
        }
    }

    /// The calling participant's customized state of type `state_type` for
    /// any resource and partition.
    pub fn customized_state_of<'a>(
        &self,
        state_type: &'a str,
        resource: &'a str,
        partition: &'a str,
    ) -> CustomizedState<'a> {
        CustomizedState {
            state_type,
            resource,
            partition,
        }
    }

    /// Writes one record to the host's log (see [`host::log`]).
    pub fn log(&self, level: Level, message: &str) {
        host::log(level, message);
    }

    /// Wall-clock milliseconds since the Unix epoch (see [`host::now_ms`]).
    pub fn now_ms(&self) -> u64 {
        host::now_ms()
    }

    /// Monotonic nanoseconds (see [`host::monotonic_ns`]).
    pub fn monotonic_ns(&self) -> u64 {
        host::monotonic_ns()
    }

    /// The record the host sent, for what the accessors do not cover.
    pub fn raw(&self) -> &TransitionContext {
        &self.ctx
    }
}

/// One partition's customized state of one type, in the calling
/// participant's `CUSTOMIZEDSTATES/<type>/<resource>` record.
#[derive(Debug, Clone, Copy)]
pub struct CustomizedState<'a> {
    state_type: &'a str,
    resource: &'a str,
    partition: &'a str,
}

impl CustomizedState<'_> {
    /// Merges `fields` into the partition's map, key by key; the host adds
    /// `START_TIME`.
    ///
    /// # Errors
    /// [`StateError::Unavailable`] when the store cannot be reached,
    /// [`StateError::NotPermitted`] when the host refuses (e.g. an empty type).
    pub fn update<K, V>(&self, fields: impl IntoIterator<Item = (K, V)>) -> Result<(), StateError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let fields: Vec<(String, String)> = fields
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        wit_customized::update(self.state_type, self.resource, self.partition, &fields)
    }

    /// The partition's map, or `None` if it has none.
    ///
    /// # Errors
    /// As [`update`](Self::update).
    pub fn get(&self) -> Result<Option<Fields>, StateError> {
        wit_customized::get(self.state_type, self.resource, self.partition)
            .map(|found| found.map(Fields::from))
    }

    /// Removes the partition's map (a no-op if there is none).
    ///
    /// # Errors
    /// As [`update`](Self::update).
    pub fn delete(&self) -> Result<(), StateError> {
        wit_customized::delete(self.state_type, self.resource, self.partition)
    }
}

/// `{host}` and `{port}` in `template` replaced by `instance`'s
/// (`host_port`).
fn fill_in(template: &str, instance: &str) -> String {
    let (host, port) = instance.rsplit_once('_').unwrap_or((instance, ""));
    template.replace("{host}", host).replace("{port}", port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_the_instances_host_and_port() {
        assert_eq!(
            fill_in("http://{host}:{port}/x", "my_host_12000"),
            "http://my_host:12000/x"
        );
        assert_eq!(fill_in("{host}:{port}", "P0"), "P0:");
        assert_eq!(fill_in("http://app/", "h_1"), "http://app/");
    }

    #[test]
    fn errors_say_what_the_host_does_next() {
        assert!(TransitionError::retryable("busy").is_retryable());
        assert!(!TransitionError::fatal("broken").is_retryable());
        assert_eq!(TransitionError::illegal("no").message(), "no");
        assert_eq!(
            TransitionError::from(StateError::Unavailable("zk down".into())),
            TransitionError::Retryable("customized state: zk down".into())
        );
        assert_eq!(
            TransitionError::from(StateError::NotPermitted("empty type".into())),
            TransitionError::Fatal("customized state: empty type".into())
        );
    }
}
