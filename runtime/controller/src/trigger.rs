//! What a changed znode of the cluster is, to the controller: which record
//! of which resource, instance or type ([`Node`]), and under which Helix
//! event name (`ClusterEventName` in the messages a run sends) it calls
//! for a run — the role of the listeners Helix's leader registers
//! (`helix-core/src/main/java/org/apache/helix/manager/zk/ControllerManagerHelper.java`). Bookkeeping nobody acts on (status updates, errors,
//! histories, the rest of the property store) is [`Node::Other`], so the
//! controller does not wake itself up.

/// Helix's name for the first run of a new leader.
pub const CONTROLLER_CHANGE: &str = "ControllerChange";
/// Helix's name for a timer-driven run.
pub const PERIODICAL_REBALANCE: &str = "PeriodicalRebalance";
/// Helix's name for a run asked for through the API.
pub const ON_DEMAND_REBALANCE: &str = "OnDemandRebalance";
/// Helix's name for a run retried after a failure.
pub const RETRY_REBALANCE: &str = "RetryRebalance";

/// A znode of the cluster, as the controller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node<'a> {
    /// `IDEALSTATES/<resource>`.
    IdealState(&'a str),
    /// `CONFIGS/RESOURCE/<resource>`.
    ResourceConfig(&'a str),
    /// `STATEMODELDEFS/<model>`.
    StateModel(&'a str),
    /// `CONFIGS/PARTICIPANT/<instance>`.
    InstanceConfig(&'a str),
    /// `CONFIGS/CLUSTER/<cluster>`.
    ClusterConfig,
    /// `CONFIGS/CUSTOMIZED_STATE/<cluster>`.
    CustomizedStateConfig,
    /// `LIVEINSTANCES/<instance>`.
    LiveInstance(&'a str),
    /// `INSTANCES/<instance>/CURRENTSTATES/<session>/<resource>`.
    CurrentState {
        /// The instance.
        instance: &'a str,
        /// The session folder.
        session: &'a str,
        /// The resource.
        resource: &'a str,
    },
    /// `INSTANCES/<instance>/CUSTOMIZEDSTATES/<type>/<resource>`.
    CustomizedState {
        /// The instance.
        instance: &'a str,
        /// The customized-state type.
        state_type: &'a str,
        /// The resource.
        resource: &'a str,
    },
    /// `INSTANCES/<instance>/MESSAGES/<id>`.
    Message {
        /// The target instance.
        instance: &'a str,
        /// The message id.
        id: &'a str,
    },
    /// `EXTERNALVIEW/<resource>`.
    ExternalView(&'a str),
    /// `CUSTOMIZEDVIEW/<type>/<resource>`.
    CustomizedView {
        /// The customized-state type.
        state_type: &'a str,
        /// The resource.
        resource: &'a str,
    },
    /// `CONTROLLER/LEADER`.
    Leader,
    /// `CONTROLLER/MAINTENANCE`.
    Maintenance,
    /// `CONTROLLER/PAUSE`.
    Pause,
    /// `PROPERTYSTORE/STRAND/PLUGINS/<name>`: Strand's plugin store.
    Plugin,
    /// Anything else.
    Other,
}

impl Node<'_> {
    /// The Helix event name of a run this change calls for; `None` when it
    /// calls for none by itself (the controller's own outputs and
    /// bookkeeping).
    pub(crate) fn event(&self) -> Option<&'static str> {
        Some(match self {
            Node::IdealState(_) => "IdealStateChange",
            Node::ResourceConfig(_) => "ResourceConfigChange",
            Node::StateModel(_) => "ConfigChange",
            Node::InstanceConfig(_) => "InstanceConfigChange",
            Node::ClusterConfig | Node::Maintenance => "ClusterConfigChange",
            Node::CustomizedStateConfig => "CustomizeStateConfigChange",
            Node::LiveInstance(_) => "LiveInstanceChange",
            Node::CurrentState { .. } => "CurrentStateChange",
            Node::CustomizedState { .. } => "CustomizedStateChange",
            Node::Message { .. } => "MessageChange",
            Node::Leader => CONTROLLER_CHANGE,
            Node::Pause => "Resume",
            Node::Plugin => "PluginChange",
            Node::ExternalView(_) | Node::CustomizedView { .. } => "ExternalViewChange",
            Node::Other => return None,
        })
    }
}

/// Classifies `path` (absolute) of the cluster rooted at `root`.
pub(crate) fn classify<'a>(root: &str, path: &'a str) -> Node<'a> {
    let Some(rest) = path.strip_prefix(root).and_then(|r| r.strip_prefix('/')) else {
        return Node::Other;
    };
    let parts: Vec<&'a str> = rest.split('/').collect();
    match parts.as_slice() {
        ["IDEALSTATES", resource] => Node::IdealState(resource),
        ["LIVEINSTANCES", instance] => Node::LiveInstance(instance),
        ["STATEMODELDEFS", model] => Node::StateModel(model),
        ["CONFIGS", "PARTICIPANT", instance] => Node::InstanceConfig(instance),
        ["CONFIGS", "CLUSTER", _] => Node::ClusterConfig,
        ["CONFIGS", "RESOURCE", resource] => Node::ResourceConfig(resource),
        ["CONFIGS", "CUSTOMIZED_STATE", _] => Node::CustomizedStateConfig,
        ["CONTROLLER", "LEADER"] => Node::Leader,
        ["CONTROLLER", "MAINTENANCE"] => Node::Maintenance,
        ["CONTROLLER", "PAUSE"] => Node::Pause,
        ["INSTANCES", instance, "CURRENTSTATES", session, resource] => Node::CurrentState {
            instance,
            session,
            resource,
        },
        [
            "INSTANCES",
            instance,
            "CUSTOMIZEDSTATES",
            state_type,
            resource,
        ] => Node::CustomizedState {
            instance,
            state_type,
            resource,
        },
        ["INSTANCES", instance, "MESSAGES", id] => Node::Message { instance, id },
        ["EXTERNALVIEW", resource] => Node::ExternalView(resource),
        ["CUSTOMIZEDVIEW", state_type, resource] => Node::CustomizedView {
            state_type,
            resource,
        },
        ["PROPERTYSTORE", "STRAND", "PLUGINS", _] => Node::Plugin,
        _ => Node::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controller_inputs_are_recognised() {
        let c = |p: &'static str| classify("/C", p);
        assert_eq!(c("/C/IDEALSTATES/db"), Node::IdealState("db"));
        assert_eq!(c("/C/LIVEINSTANCES/h_1"), Node::LiveInstance("h_1"));
        assert_eq!(
            c("/C/INSTANCES/h_1/CURRENTSTATES/abc/db"),
            Node::CurrentState {
                instance: "h_1",
                session: "abc",
                resource: "db"
            }
        );
        assert_eq!(
            c("/C/INSTANCES/h_1/CUSTOMIZEDSTATES/DEPLOY/db"),
            Node::CustomizedState {
                instance: "h_1",
                state_type: "DEPLOY",
                resource: "db"
            }
        );
        assert_eq!(
            c("/C/INSTANCES/h_1/MESSAGES/m1"),
            Node::Message {
                instance: "h_1",
                id: "m1"
            }
        );
        assert_eq!(c("/C/PROPERTYSTORE/STRAND/PLUGINS/summary"), Node::Plugin);
        assert_eq!(c("/C/CONTROLLER/MAINTENANCE"), Node::Maintenance);
        assert_eq!(c("/C/EXTERNALVIEW/db"), Node::ExternalView("db"));
        assert_eq!(
            c("/C/CONFIGS/RESOURCE/db").event(),
            Some("ResourceConfigChange")
        );
    }

    #[test]
    fn bookkeeping_is_other() {
        let c = |p: &'static str| classify("/C", p);
        for path in [
            "/C/CONTROLLER/HISTORY",
            "/C/INSTANCES/h_1/STATUSUPDATES/s/db/p",
            "/C/INSTANCES/h_1/HISTORY",
            "/C/INSTANCES/h_1/CURRENTSTATES",
            "/C/INSTANCES/h_1/CURRENTSTATES/abc",
            "/C/PROPERTYSTORE/x",
            "/C/PROPERTYSTORE/STRAND/STATUS/h_1",
            "/D/IDEALSTATES/db",
            "/Cx/IDEALSTATES/db",
            "/C/IDEALSTATES",
        ] {
            assert_eq!(c(path), Node::Other, "{path}");
            assert_eq!(c(path).event(), None, "{path}");
        }
    }
}
