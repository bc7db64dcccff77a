//! Where every Helix record lives in ZooKeeper ([`PropertyPaths`], Helix's
//! `PropertyPathBuilder` / `PropertyKey.Builder`), plus the path sets that cluster
//! and instance creation make and that the set-up checks require.

use std::fmt::Display;

/// Path builder for one cluster. Every method returns an absolute znode path.
///
/// Session ids are taken as anything displayable, so a [`crate::SessionId`] (which
/// displays as Helix's hex) and a `&str` both work.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PropertyPaths {
    cluster: String,
}

impl PropertyPaths {
    /// Paths of cluster `cluster` (no leading slash; a chroot is the client's business).
    pub fn new(cluster: impl Into<String>) -> Self {
        PropertyPaths {
            cluster: cluster.into(),
        }
    }

    /// The cluster name.
    pub fn cluster_name(&self) -> &str {
        &self.cluster
    }

    /// `/<C>`.
    pub fn cluster(&self) -> String {
        format!("/{}", self.cluster)
    }

    fn under(&self, rest: &str) -> String {
        format!("/{}/{rest}", self.cluster)
    }

    // ---- CONFIGS ----------------------------------------------------------------

    /// `/<C>/CONFIGS`.
    pub fn configs(&self) -> String {
        self.under("CONFIGS")
    }

    /// `/<C>/CONFIGS/CLUSTER`.
    pub fn cluster_configs(&self) -> String {
        self.under("CONFIGS/CLUSTER")
    }

    /// `/<C>/CONFIGS/CLUSTER/<C>` — ClusterConfig.
    pub fn cluster_config(&self) -> String {
        self.under(&format!("CONFIGS/CLUSTER/{}", self.cluster))
    }

    /// `/<C>/CONFIGS/PARTICIPANT`.
    pub fn instance_configs(&self) -> String {
        self.under("CONFIGS/PARTICIPANT")
    }

    /// `/<C>/CONFIGS/PARTICIPANT/<I>` — InstanceConfig.
    pub fn instance_config(&self, instance: &str) -> String {
        self.under(&format!("CONFIGS/PARTICIPANT/{instance}"))
    }

    /// `/<C>/CONFIGS/RESOURCE`.
    pub fn resource_configs(&self) -> String {
        self.under("CONFIGS/RESOURCE")
    }

    /// `/<C>/CONFIGS/RESOURCE/<R>` — ResourceConfig.
    pub fn resource_config(&self, resource: &str) -> String {
        self.under(&format!("CONFIGS/RESOURCE/{resource}"))
    }

    /// `/<C>/CONFIGS/CUSTOMIZED_STATE`.
    pub fn customized_state_configs(&self) -> String {
        self.under("CONFIGS/CUSTOMIZED_STATE")
    }

    /// `/<C>/CONFIGS/CUSTOMIZED_STATE/<C>` — CustomizedStateConfig.
    pub fn customized_state_config(&self) -> String {
        self.under(&format!("CONFIGS/CUSTOMIZED_STATE/{}", self.cluster))
    }

    /// `/<C>/CONFIGS/CONSTRAINT`.
    pub fn constraints(&self) -> String {
        self.under("CONFIGS/CONSTRAINT")
    }

    /// `/<C>/CONFIGS/CONSTRAINT/<type>` (`STATE_CONSTRAINT` | `MESSAGE_CONSTRAINT`).
    pub fn constraint(&self, constraint_type: &str) -> String {
        self.under(&format!("CONFIGS/CONSTRAINT/{constraint_type}"))
    }

    /// `/<C>/CONFIGS/CLOUD/<C>` — CloudConfig.
    pub fn cloud_config(&self) -> String {
        self.under(&format!("CONFIGS/CLOUD/{}", self.cluster))
    }

    /// `/<C>/CONFIGS/REST/<C>` — RESTConfig.
    pub fn rest_config(&self) -> String {
        self.under(&format!("CONFIGS/REST/{}", self.cluster))
    }

    // ---- resources ---------------------------------------------------------------

    /// `/<C>/IDEALSTATES`.
    pub fn ideal_states(&self) -> String {
        self.under("IDEALSTATES")
    }

    /// `/<C>/IDEALSTATES/<R>` — IdealState.
    pub fn ideal_state(&self, resource: &str) -> String {
        self.under(&format!("IDEALSTATES/{resource}"))
    }

    /// `/<C>/EXTERNALVIEW`.
    pub fn external_views(&self) -> String {
        self.under("EXTERNALVIEW")
    }

    /// `/<C>/EXTERNALVIEW/<R>` — ExternalView.
    pub fn external_view(&self, resource: &str) -> String {
        self.under(&format!("EXTERNALVIEW/{resource}"))
    }

    /// `/<C>/TARGETEXTERNALVIEW`.
    pub fn target_external_views(&self) -> String {
        self.under("TARGETEXTERNALVIEW")
    }

    /// `/<C>/TARGETEXTERNALVIEW/<R>`.
    pub fn target_external_view(&self, resource: &str) -> String {
        self.under(&format!("TARGETEXTERNALVIEW/{resource}"))
    }

    /// `/<C>/CUSTOMIZEDVIEW`.
    pub fn customized_views(&self) -> String {
        self.under("CUSTOMIZEDVIEW")
    }

    /// `/<C>/CUSTOMIZEDVIEW/<T>`.
    pub fn customized_views_of_type(&self, customized_type: &str) -> String {
        self.under(&format!("CUSTOMIZEDVIEW/{customized_type}"))
    }

    /// `/<C>/CUSTOMIZEDVIEW/<T>/<R>` — CustomizedView.
    pub fn customized_view(&self, customized_type: &str, resource: &str) -> String {
        self.under(&format!("CUSTOMIZEDVIEW/{customized_type}/{resource}"))
    }

    /// `/<C>/STATEMODELDEFS`.
    pub fn state_model_defs(&self) -> String {
        self.under("STATEMODELDEFS")
    }

    /// `/<C>/STATEMODELDEFS/<name>` — StateModelDefinition.
    pub fn state_model_def(&self, name: &str) -> String {
        self.under(&format!("STATEMODELDEFS/{name}"))
    }

    // ---- live instances and instances ----------------------------------------------

    /// `/<C>/LIVEINSTANCES`.
    pub fn live_instances(&self) -> String {
        self.under("LIVEINSTANCES")
    }

    /// `/<C>/LIVEINSTANCES/<I>` — LiveInstance (ephemeral).
    pub fn live_instance(&self, instance: &str) -> String {
        self.under(&format!("LIVEINSTANCES/{instance}"))
    }

    /// `/<C>/INSTANCES`.
    pub fn instances(&self) -> String {
        self.under("INSTANCES")
    }

    /// `/<C>/INSTANCES/<I>`.
    pub fn instance(&self, instance: &str) -> String {
        self.under(&format!("INSTANCES/{instance}"))
    }

    /// `/<C>/INSTANCES/<I>/MESSAGES`.
    pub fn messages(&self, instance: &str) -> String {
        self.under(&format!("INSTANCES/{instance}/MESSAGES"))
    }

    /// `/<C>/INSTANCES/<I>/MESSAGES/<id>` — Message.
    pub fn message(&self, instance: &str, msg_id: &str) -> String {
        self.under(&format!("INSTANCES/{instance}/MESSAGES/{msg_id}"))
    }

    /// `/<C>/INSTANCES/<I>/CURRENTSTATES`.
    pub fn current_states_root(&self, instance: &str) -> String {
        self.under(&format!("INSTANCES/{instance}/CURRENTSTATES"))
    }

    /// `/<C>/INSTANCES/<I>/CURRENTSTATES/<S>`.
    pub fn current_states(&self, instance: &str, session: impl Display) -> String {
        self.under(&format!("INSTANCES/{instance}/CURRENTSTATES/{session}"))
    }

    /// `/<C>/INSTANCES/<I>/CURRENTSTATES/<S>/<R>` — CurrentState.
    pub fn current_state(&self, instance: &str, session: impl Display, resource: &str) -> String {
        self.under(&format!(
            "INSTANCES/{instance}/CURRENTSTATES/{session}/{resource}"
        ))
    }

    /// `/<C>/INSTANCES/<I>/TASKCURRENTSTATES`.
    pub fn task_current_states_root(&self, instance: &str) -> String {
        self.under(&format!("INSTANCES/{instance}/TASKCURRENTSTATES"))
    }

    /// `/<C>/INSTANCES/<I>/TASKCURRENTSTATES/<S>`.
    pub fn task_current_states(&self, instance: &str, session: impl Display) -> String {
        self.under(&format!("INSTANCES/{instance}/TASKCURRENTSTATES/{session}"))
    }

    /// `/<C>/INSTANCES/<I>/TASKCURRENTSTATES/<S>/<R>`.
    pub fn task_current_state(
        &self,
        instance: &str,
        session: impl Display,
        resource: &str,
    ) -> String {
        self.under(&format!(
            "INSTANCES/{instance}/TASKCURRENTSTATES/{session}/{resource}"
        ))
    }

    /// `/<C>/INSTANCES/<I>/CUSTOMIZEDSTATES`.
    pub fn customized_states_root(&self, instance: &str) -> String {
        self.under(&format!("INSTANCES/{instance}/CUSTOMIZEDSTATES"))
    }

    /// `/<C>/INSTANCES/<I>/CUSTOMIZEDSTATES/<T>`.
    pub fn customized_states(&self, instance: &str, customized_type: &str) -> String {
        self.under(&format!(
            "INSTANCES/{instance}/CUSTOMIZEDSTATES/{customized_type}"
        ))
    }

    /// `/<C>/INSTANCES/<I>/CUSTOMIZEDSTATES/<T>/<R>` — CustomizedState.
    pub fn customized_state(
        &self,
        instance: &str,
        customized_type: &str,
        resource: &str,
    ) -> String {
        self.under(&format!(
            "INSTANCES/{instance}/CUSTOMIZEDSTATES/{customized_type}/{resource}"
        ))
    }

    /// `/<C>/INSTANCES/<I>/ERRORS`.
    pub fn errors(&self, instance: &str) -> String {
        self.under(&format!("INSTANCES/{instance}/ERRORS"))
    }

    /// `/<C>/INSTANCES/<I>/ERRORS/<S>/<R>/<P>`.
    pub fn error(
        &self,
        instance: &str,
        session: impl Display,
        resource: &str,
        partition: &str,
    ) -> String {
        self.under(&format!(
            "INSTANCES/{instance}/ERRORS/{session}/{resource}/{partition}"
        ))
    }

    /// `/<C>/INSTANCES/<I>/STATUSUPDATES`.
    pub fn status_updates(&self, instance: &str) -> String {
        self.under(&format!("INSTANCES/{instance}/STATUSUPDATES"))
    }

    /// `/<C>/INSTANCES/<I>/HISTORY` — ParticipantHistory.
    pub fn participant_history(&self, instance: &str) -> String {
        self.under(&format!("INSTANCES/{instance}/HISTORY"))
    }

    /// `/<C>/INSTANCES/<I>/HEALTHREPORT`.
    pub fn health_reports(&self, instance: &str) -> String {
        self.under(&format!("INSTANCES/{instance}/HEALTHREPORT"))
    }

    // ---- controller --------------------------------------------------------------

    /// `/<C>/CONTROLLER`.
    pub fn controller(&self) -> String {
        self.under("CONTROLLER")
    }

    /// `/<C>/CONTROLLER/LEADER` — LiveInstance of the leader (ephemeral).
    pub fn controller_leader(&self) -> String {
        self.under("CONTROLLER/LEADER")
    }

    /// `/<C>/CONTROLLER/HISTORY` — ControllerHistory.
    pub fn controller_history(&self) -> String {
        self.under("CONTROLLER/HISTORY")
    }

    /// `/<C>/CONTROLLER/MESSAGES`.
    pub fn controller_messages(&self) -> String {
        self.under("CONTROLLER/MESSAGES")
    }

    /// `/<C>/CONTROLLER/MESSAGES/<id>`.
    pub fn controller_message(&self, msg_id: &str) -> String {
        self.under(&format!("CONTROLLER/MESSAGES/{msg_id}"))
    }

    /// `/<C>/CONTROLLER/STATUSUPDATES`.
    pub fn controller_status_updates(&self) -> String {
        self.under("CONTROLLER/STATUSUPDATES")
    }

    /// `/<C>/CONTROLLER/ERRORS`.
    pub fn controller_errors(&self) -> String {
        self.under("CONTROLLER/ERRORS")
    }

    /// `/<C>/CONTROLLER/PAUSE` — PauseSignal.
    pub fn pause(&self) -> String {
        self.under("CONTROLLER/PAUSE")
    }

    /// `/<C>/CONTROLLER/MAINTENANCE` — MaintenanceSignal.
    pub fn maintenance(&self) -> String {
        self.under("CONTROLLER/MAINTENANCE")
    }

    // ---- misc --------------------------------------------------------------------

    /// `/<C>/STATUS/<C>` — ClusterStatus.
    pub fn cluster_status(&self) -> String {
        self.under(&format!("STATUS/{}", self.cluster))
    }

    /// `/<C>/PROPERTYSTORE`.
    pub fn property_store(&self) -> String {
        self.under("PROPERTYSTORE")
    }

    // ---- path sets -----------------------------------------------------------------

    /// The znodes `ZKHelixAdmin.addCluster` creates, parents first: `/<C>` and then
    /// `createZKPaths`. Two carry data: [`PropertyPaths::cluster_config`] (an empty
    /// ClusterConfig) and [`PropertyPaths::controller_history`] (a ControllerHistory
    /// with LF `<C>` = `[]`); the rest are empty.
    pub fn cluster_creation_paths(&self) -> Vec<String> {
        vec![
            self.cluster(),
            self.ideal_states(),
            self.configs(),
            self.cluster_configs(),
            self.cluster_config(),
            self.instance_configs(),
            self.resource_configs(),
            self.customized_state_configs(),
            self.property_store(),
            self.live_instances(),
            self.instances(),
            self.external_views(),
            self.state_model_defs(),
            self.controller(),
            self.controller_history(),
            self.controller_messages(),
            self.controller_status_updates(),
            self.controller_errors(),
        ]
    }

    /// The 14 paths `ZKUtil.isClusterSetup` requires (not `CONFIGS/CUSTOMIZED_STATE`).
    pub fn cluster_setup_required_paths(&self) -> Vec<String> {
        vec![
            self.ideal_states(),
            self.cluster_config(),
            self.instance_configs(),
            self.resource_configs(),
            self.property_store(),
            self.live_instances(),
            self.instances(),
            self.external_views(),
            self.controller(),
            self.state_model_defs(),
            self.controller_messages(),
            self.controller_errors(),
            self.controller_status_updates(),
            self.controller_history(),
        ]
    }

    /// The znodes `ZKHelixAdmin.addInstance` creates besides the InstanceConfig itself
    /// (at [`PropertyPaths::instance_config`]), parents first; `HISTORY` gets an empty
    /// ParticipantHistory.
    pub fn instance_creation_paths(&self, instance: &str) -> Vec<String> {
        vec![
            self.instance(instance),
            self.messages(instance),
            self.current_states_root(instance),
            self.task_current_states_root(instance),
            self.customized_states_root(instance),
            self.errors(instance),
            self.status_updates(instance),
            self.participant_history(instance),
        ]
    }

    /// The paths `ZKUtil.isInstanceSetup` requires for a participant to connect.
    pub fn instance_setup_required_paths(&self, instance: &str) -> Vec<String> {
        vec![
            self.instance_config(instance),
            self.messages(instance),
            self.current_states_root(instance),
            self.status_updates(instance),
            self.errors(instance),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionId;

    #[test]
    fn paths_match_the_helix_layout() {
        let p = PropertyPaths::new("DEMO_");
        assert_eq!(p.cluster_config(), "/DEMO_/CONFIGS/CLUSTER/DEMO_");
        assert_eq!(p.instance_config("i"), "/DEMO_/CONFIGS/PARTICIPANT/i");
        assert_eq!(
            p.customized_state_config(),
            "/DEMO_/CONFIGS/CUSTOMIZED_STATE/DEMO_"
        );
        assert_eq!(
            p.current_state("localhost_12001", SessionId(0x1000021f98d000a), "OODB"),
            "/DEMO_/INSTANCES/localhost_12001/CURRENTSTATES/1000021f98d000a/OODB"
        );
        assert_eq!(
            p.customized_state("localhost_12001", "DEPLOY_STATE", "OODB"),
            "/DEMO_/INSTANCES/localhost_12001/CUSTOMIZEDSTATES/DEPLOY_STATE/OODB"
        );
        assert_eq!(
            p.customized_view("DEPLOY_STATE", "TestDB"),
            "/DEMO_/CUSTOMIZEDVIEW/DEPLOY_STATE/TestDB"
        );
        assert_eq!(p.controller_leader(), "/DEMO_/CONTROLLER/LEADER");
        assert_eq!(p.maintenance(), "/DEMO_/CONTROLLER/MAINTENANCE");
        assert_eq!(p.message("i", "m"), "/DEMO_/INSTANCES/i/MESSAGES/m");
        assert_eq!(p.cluster_status(), "/DEMO_/STATUS/DEMO_");
    }

    #[test]
    fn path_sets() {
        let p = PropertyPaths::new("C");
        let created = p.cluster_creation_paths();
        let required = p.cluster_setup_required_paths();
        assert_eq!(required.len(), 14);
        assert!(required.iter().all(|r| created.contains(r)));
        assert!(created.contains(&p.customized_state_configs()));
        assert!(!required.contains(&p.customized_state_configs()));
        // Parents come before children.
        for (i, path) in created.iter().enumerate() {
            if let Some((parent, _)) = path.rsplit_once('/')
                && !parent.is_empty()
            {
                let at = created.iter().position(|c| c == parent);
                assert!(at.is_some_and(|a| a < i), "{path} before its parent");
            }
        }
        let instance = p.instance_creation_paths("i");
        assert_eq!(instance.len(), 8);
        assert!(
            p.instance_setup_required_paths("i")
                .iter()
                .skip(1)
                .all(|r| instance.contains(r))
        );
    }
}
