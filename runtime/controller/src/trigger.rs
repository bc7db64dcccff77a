//! Which cache changes call for a pipeline run, and under which Helix
//! event name (`ClusterEventName` in the messages it sends) — the role of
//! the listeners Helix's leader registers (§5.1 of the spec): ideal
//! states, live instances, configs, current states, messages, customized
//! states and the controller's signals. Everything the controller itself
//! writes (views, messages it creates) and bookkeeping nobody acts on
//! (status updates, errors, histories, the property store) is ignored, so
//! the controller does not wake itself up.

/// Helix's name for the first run of a new leader.
pub const CONTROLLER_CHANGE: &str = "ControllerChange";
/// Helix's name for a timer-driven run.
pub const PERIODICAL_REBALANCE: &str = "PeriodicalRebalance";
/// Helix's name for a run asked for through the API.
pub const ON_DEMAND_REBALANCE: &str = "OnDemandRebalance";
/// Helix's name for a run retried after a failure.
pub const RETRY_REBALANCE: &str = "RetryRebalance";

/// What a changed znode means to the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Nothing to do.
    Ignore,
    /// A pipeline run is due, with this event name.
    Run(&'static str),
    /// A message znode changed: due only when it was deleted by someone
    /// else (creation and `MSG_STATE` updates change no decision).
    Message,
}

/// Classifies `path` (absolute) of the cluster rooted at `root`.
pub(crate) fn classify(root: &str, path: &str) -> Change {
    let Some(rest) = path.strip_prefix(root).and_then(|r| r.strip_prefix('/')) else {
        return Change::Ignore;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["IDEALSTATES", _, ..] => Change::Run("IdealStateChange"),
        ["LIVEINSTANCES", _, ..] => Change::Run("LiveInstanceChange"),
        ["STATEMODELDEFS", _, ..] => Change::Run("ConfigChange"),
        ["CONFIGS", "PARTICIPANT", _, ..] => Change::Run("InstanceConfigChange"),
        ["CONFIGS", "CLUSTER", _, ..] => Change::Run("ClusterConfigChange"),
        ["CONFIGS", "RESOURCE", _, ..] => Change::Run("ResourceConfigChange"),
        ["CONFIGS", "CUSTOMIZED_STATE", _, ..] => Change::Run("CustomizeStateConfigChange"),
        ["CONTROLLER", "LEADER"] => Change::Run(CONTROLLER_CHANGE),
        ["CONTROLLER", "MAINTENANCE"] => Change::Run("ClusterConfigChange"),
        ["CONTROLLER", "PAUSE"] => Change::Run("Resume"),
        ["INSTANCES", _, "CURRENTSTATES", _, _, ..] => Change::Run("CurrentStateChange"),
        ["INSTANCES", _, "CUSTOMIZEDSTATES", _, _, ..] => Change::Run("CustomizedStateChange"),
        ["INSTANCES", _, "MESSAGES", _] => Change::Message,
        // Strand's plugin store: a new active version of a bound aggregator.
        ["PROPERTYSTORE", "STRAND", "PLUGINS", _] => Change::Run("PluginChange"),
        _ => Change::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controller_inputs_trigger_runs() {
        let c = |p: &str| classify("/C", p);
        assert_eq!(c("/C/IDEALSTATES/db"), Change::Run("IdealStateChange"));
        assert_eq!(c("/C/LIVEINSTANCES/h_1"), Change::Run("LiveInstanceChange"));
        assert_eq!(
            c("/C/INSTANCES/h_1/CURRENTSTATES/abc/db"),
            Change::Run("CurrentStateChange")
        );
        assert_eq!(
            c("/C/INSTANCES/h_1/CUSTOMIZEDSTATES/DEPLOY/db"),
            Change::Run("CustomizedStateChange")
        );
        assert_eq!(c("/C/INSTANCES/h_1/MESSAGES/m1"), Change::Message);
        assert_eq!(
            c("/C/PROPERTYSTORE/STRAND/PLUGINS/summary"),
            Change::Run("PluginChange")
        );
        assert_eq!(c("/C/PROPERTYSTORE/STRAND/STATUS/h_1"), Change::Ignore);
        assert_eq!(
            c("/C/CONTROLLER/MAINTENANCE"),
            Change::Run("ClusterConfigChange")
        );
    }

    #[test]
    fn own_outputs_and_bookkeeping_are_ignored() {
        let c = |p: &str| classify("/C", p);
        for path in [
            "/C/EXTERNALVIEW/db",
            "/C/CUSTOMIZEDVIEW/T/db",
            "/C/CONTROLLER/HISTORY",
            "/C/INSTANCES/h_1/STATUSUPDATES/s/db/p",
            "/C/INSTANCES/h_1/HISTORY",
            "/C/INSTANCES/h_1/CURRENTSTATES",
            "/C/PROPERTYSTORE/x",
            "/D/IDEALSTATES/db",
            "/Cx/IDEALSTATES/db",
        ] {
            assert_eq!(c(path), Change::Ignore, "{path}");
        }
    }
}
