//! [`IdealState`] — `/<C>/IDEALSTATES/<R>`: a resource's partitions, state model,
//! rebalance mode (with the legacy `IDEAL_STATE_MODE` mapping), replica count,
//! preference lists and (for CUSTOMIZED) instance→state maps.

use super::{bucket_and_batch_accessors, typed_record};
use crate::error::ModelError;
use crate::znrecord::{FieldMap, ZNRecord};

/// Simple-field keys of an IdealState (Helix spellings).
pub mod keys {
    /// Partition count (informational; partitions come from the field keys).
    pub const NUM_PARTITIONS: &str = "NUM_PARTITIONS";
    /// State model definition name (required).
    pub const STATE_MODEL_DEF_REF: &str = "STATE_MODEL_DEF_REF";
    /// State model factory name (default `DEFAULT`).
    pub const STATE_MODEL_FACTORY_NAME: &str = "STATE_MODEL_FACTORY_NAME";
    /// Replica count, or `ANY_LIVEINSTANCE`.
    pub const REPLICAS: &str = "REPLICAS";
    /// Minimum active replicas (delayed rebalance).
    pub const MIN_ACTIVE_REPLICAS: &str = "MIN_ACTIVE_REPLICAS";
    /// Delayed-rebalance delay, ms.
    pub const REBALANCE_DELAY: &str = "REBALANCE_DELAY";
    /// Deprecated delayed-rebalance switch.
    pub const DELAY_REBALANCE_DISABLED: &str = "DELAY_REBALANCE_DISABLED";
    /// Delayed-rebalance switch.
    pub const DELAY_REBALANCE_ENABLED: &str = "DELAY_REBALANCE_ENABLED";
    /// `FULL_AUTO` | `SEMI_AUTO` | `CUSTOMIZED` | `USER_DEFINED` | `TASK`.
    pub const REBALANCE_MODE: &str = "REBALANCE_MODE";
    /// Legacy mode: `AUTO_REBALANCE` | `AUTO` | `CUSTOMIZED`.
    pub const IDEAL_STATE_MODE: &str = "IDEAL_STATE_MODE";
    /// Rebalancer class (USER_DEFINED, TASK, WAGED).
    pub const REBALANCER_CLASS_NAME: &str = "REBALANCER_CLASS_NAME";
    /// Placement strategy (`DEFAULT` or a class name).
    pub const REBALANCE_STRATEGY: &str = "REBALANCE_STRATEGY";
    /// Periodic rebalance period, ms.
    pub const REBALANCE_TIMER_PERIOD: &str = "REBALANCE_TIMER_PERIOD";
    /// Max partitions of this resource per instance.
    pub const MAX_PARTITIONS_PER_INSTANCE: &str = "MAX_PARTITIONS_PER_INSTANCE";
    /// Only instances with this tag are candidates.
    pub const INSTANCE_GROUP_TAG: &str = "INSTANCE_GROUP_TAG";
    /// Resource enabled flag (default true).
    pub const HELIX_ENABLED: &str = "HELIX_ENABLED";
    /// Resource group name.
    pub const RESOURCE_GROUP_NAME: &str = "RESOURCE_GROUP_NAME";
    /// Resource type.
    pub const RESOURCE_TYPE: &str = "RESOURCE_TYPE";
    /// Routing by resource group.
    pub const GROUP_ROUTING_ENABLED: &str = "GROUP_ROUTING_ENABLED";
    /// Do not compute an external view.
    pub const EXTERNAL_VIEW_DISABLED: &str = "EXTERNAL_VIEW_DISABLED";
}

/// The `REPLICAS` value meaning "every assignable live instance"; also, as the only
/// element of a preference list, "all assignable live instances, sorted".
pub const ANY_LIVEINSTANCE: &str = "ANY_LIVEINSTANCE";

/// Default `STATE_MODEL_FACTORY_NAME`.
pub const DEFAULT_FACTORY: &str = "DEFAULT";

/// Rebalancer class names that make a mode-less IdealState a TASK resource.
const TASK_REBALANCERS: [&str; 2] = [
    "org.apache.helix.task.JobRebalancer",
    "org.apache.helix.task.WorkflowRebalancer",
];

/// `REBALANCE_MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebalanceMode {
    /// `FULL_AUTO`: the controller places replicas and assigns states.
    FullAuto,
    /// `SEMI_AUTO`: preference lists given; the controller assigns states.
    SemiAuto,
    /// `CUSTOMIZED`: instance→state maps given.
    Customized,
    /// `USER_DEFINED`: a plugged-in rebalancer.
    UserDefined,
    /// `TASK`: the task framework.
    Task,
    /// `NONE` (Helix's internal "unset").
    None,
}

impl RebalanceMode {
    /// The Helix spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RebalanceMode::FullAuto => "FULL_AUTO",
            RebalanceMode::SemiAuto => "SEMI_AUTO",
            RebalanceMode::Customized => "CUSTOMIZED",
            RebalanceMode::UserDefined => "USER_DEFINED",
            RebalanceMode::Task => "TASK",
            RebalanceMode::None => "NONE",
        }
    }

    /// Parse the exact Helix spelling.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "FULL_AUTO" => RebalanceMode::FullAuto,
            "SEMI_AUTO" => RebalanceMode::SemiAuto,
            "CUSTOMIZED" => RebalanceMode::Customized,
            "USER_DEFINED" => RebalanceMode::UserDefined,
            "TASK" => RebalanceMode::Task,
            "NONE" => RebalanceMode::None,
            _ => return None,
        })
    }

    /// Parse what admins may type: a `REBALANCE_MODE` or a legacy `IDEAL_STATE_MODE`
    /// spelling (`AUTO` = SEMI_AUTO, `AUTO_REBALANCE` = FULL_AUTO), any case.
    pub fn parse_lenient(value: &str) -> Option<Self> {
        let upper = value.trim().to_ascii_uppercase();
        RebalanceMode::parse(&upper)
            .or_else(|| IdealStateMode::parse(&upper).map(IdealStateMode::to_rebalance_mode))
    }

    /// The legacy `IDEAL_STATE_MODE` Helix writes alongside (others map to AUTO).
    pub fn to_ideal_state_mode(self) -> IdealStateMode {
        match self {
            RebalanceMode::FullAuto => IdealStateMode::AutoRebalance,
            RebalanceMode::Customized => IdealStateMode::Customized,
            _ => IdealStateMode::Auto,
        }
    }
}

/// Legacy `IDEAL_STATE_MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdealStateMode {
    /// `AUTO` = SEMI_AUTO.
    Auto,
    /// `CUSTOMIZED`.
    Customized,
    /// `AUTO_REBALANCE` = FULL_AUTO.
    AutoRebalance,
}

impl IdealStateMode {
    /// The Helix spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            IdealStateMode::Auto => "AUTO",
            IdealStateMode::Customized => "CUSTOMIZED",
            IdealStateMode::AutoRebalance => "AUTO_REBALANCE",
        }
    }

    /// Parse the exact Helix spelling.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "AUTO" => IdealStateMode::Auto,
            "CUSTOMIZED" => IdealStateMode::Customized,
            "AUTO_REBALANCE" => IdealStateMode::AutoRebalance,
            _ => return None,
        })
    }

    /// The equivalent rebalance mode.
    pub fn to_rebalance_mode(self) -> RebalanceMode {
        match self {
            IdealStateMode::Auto => RebalanceMode::SemiAuto,
            IdealStateMode::Customized => RebalanceMode::Customized,
            IdealStateMode::AutoRebalance => RebalanceMode::FullAuto,
        }
    }
}

/// `REPLICAS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replicas {
    /// A fixed replica count.
    Count(i32),
    /// `ANY_LIVEINSTANCE`: one replica per assignable live instance.
    AnyLiveInstance,
}

impl Replicas {
    /// Parse a `REPLICAS` value.
    pub fn parse(value: &str) -> Option<Self> {
        if value == ANY_LIVEINSTANCE {
            Some(Replicas::AnyLiveInstance)
        } else {
            value.trim().parse().ok().map(Replicas::Count)
        }
    }

    /// The Helix spelling.
    pub fn to_field(self) -> String {
        match self {
            Replicas::Count(n) => n.to_string(),
            Replicas::AnyLiveInstance => ANY_LIVEINSTANCE.to_string(),
        }
    }

    /// The count, given how many assignable live instances there are.
    pub fn resolve(self, live_instances: usize) -> usize {
        match self {
            Replicas::Count(n) => usize::try_from(n).unwrap_or(0),
            Replicas::AnyLiveInstance => live_instances,
        }
    }
}

typed_record! {
    /// IdealState (id = resource name).
    IdealState
}

bucket_and_batch_accessors!(IdealState);

impl IdealState {
    /// An empty IdealState for a resource.
    pub fn new(resource: impl Into<String>) -> Self {
        IdealState::from(ZNRecord::new(resource))
    }

    /// What `ZKHelixAdmin.addResource` writes: `NUM_PARTITIONS`, `STATE_MODEL_DEF_REF`,
    /// `REBALANCE_MODE` + `IDEAL_STATE_MODE`, `REBALANCE_STRATEGY`, `REPLICAS`=`0`,
    /// `STATE_MODEL_FACTORY_NAME`=`DEFAULT`, and no partitions yet.
    pub fn for_new_resource(
        resource: impl Into<String>,
        partitions: i32,
        state_model: &str,
        mode: RebalanceMode,
        strategy: &str,
    ) -> Self {
        let mut is = IdealState::new(resource);
        is.set_num_partitions(partitions);
        is.set_state_model_def_ref(state_model);
        is.set_rebalance_mode(mode);
        is.set_rebalance_strategy(strategy);
        is.set_replicas(Replicas::Count(0));
        is.set_state_model_factory_name(DEFAULT_FACTORY);
        is
    }

    /// `NUM_PARTITIONS` (`None` if absent or unparsable; Helix reads -1).
    pub fn num_partitions(&self) -> Option<i32> {
        self.0.simple_parsed(keys::NUM_PARTITIONS)
    }

    /// Set `NUM_PARTITIONS`.
    pub fn set_num_partitions(&mut self, n: i32) {
        self.record_mut()
            .set_simple(keys::NUM_PARTITIONS, n.to_string());
    }

    /// `STATE_MODEL_DEF_REF`.
    pub fn state_model_def_ref(&self) -> Option<&str> {
        self.0.simple(keys::STATE_MODEL_DEF_REF)
    }

    /// Set `STATE_MODEL_DEF_REF`.
    pub fn set_state_model_def_ref(&mut self, name: &str) {
        self.record_mut()
            .set_simple(keys::STATE_MODEL_DEF_REF, name);
    }

    /// `STATE_MODEL_FACTORY_NAME` (default `DEFAULT`).
    pub fn state_model_factory_name(&self) -> &str {
        self.0
            .simple(keys::STATE_MODEL_FACTORY_NAME)
            .unwrap_or(DEFAULT_FACTORY)
    }

    /// Set `STATE_MODEL_FACTORY_NAME`.
    pub fn set_state_model_factory_name(&mut self, name: &str) {
        self.record_mut()
            .set_simple(keys::STATE_MODEL_FACTORY_NAME, name);
    }

    /// The rebalance mode: `REBALANCE_MODE` if set (and not `NONE`), else derived from
    /// the legacy `IDEAL_STATE_MODE` (absent = `AUTO` = SEMI_AUTO); an unknown legacy
    /// value with a `REBALANCER_CLASS_NAME` gives TASK (task rebalancers) or
    /// USER_DEFINED.
    pub fn rebalance_mode(&self) -> RebalanceMode {
        match self
            .0
            .simple(keys::REBALANCE_MODE)
            .and_then(RebalanceMode::parse)
        {
            Some(mode) if mode != RebalanceMode::None => return mode,
            _ => {}
        }
        match self.0.simple(keys::IDEAL_STATE_MODE) {
            None => RebalanceMode::SemiAuto,
            Some(legacy) => match IdealStateMode::parse(legacy) {
                Some(mode) => mode.to_rebalance_mode(),
                None => match self.rebalancer_class_name() {
                    Some(class) if TASK_REBALANCERS.contains(&class) => RebalanceMode::Task,
                    Some(_) => RebalanceMode::UserDefined,
                    None => RebalanceMode::SemiAuto,
                },
            },
        }
    }

    /// Set `REBALANCE_MODE` and the matching legacy `IDEAL_STATE_MODE`.
    pub fn set_rebalance_mode(&mut self, mode: RebalanceMode) {
        self.record_mut()
            .set_simple(keys::REBALANCE_MODE, mode.as_str());
        self.record_mut()
            .set_simple(keys::IDEAL_STATE_MODE, mode.to_ideal_state_mode().as_str());
    }

    /// `REPLICAS` (`None` if absent or unparsable).
    pub fn replicas(&self) -> Option<Replicas> {
        self.0.simple(keys::REPLICAS).and_then(Replicas::parse)
    }

    /// Set `REPLICAS`.
    pub fn set_replicas(&mut self, replicas: Replicas) {
        self.record_mut()
            .set_simple(keys::REPLICAS, replicas.to_field());
    }

    /// `MIN_ACTIVE_REPLICAS`.
    pub fn min_active_replicas(&self) -> Option<i32> {
        self.0.simple_parsed(keys::MIN_ACTIVE_REPLICAS)
    }

    /// `REBALANCER_CLASS_NAME`.
    pub fn rebalancer_class_name(&self) -> Option<&str> {
        self.0.simple(keys::REBALANCER_CLASS_NAME)
    }

    /// `REBALANCE_STRATEGY` (default `DEFAULT`).
    pub fn rebalance_strategy(&self) -> &str {
        self.0.simple(keys::REBALANCE_STRATEGY).unwrap_or("DEFAULT")
    }

    /// Set `REBALANCE_STRATEGY`.
    pub fn set_rebalance_strategy(&mut self, strategy: &str) {
        self.record_mut()
            .set_simple(keys::REBALANCE_STRATEGY, strategy);
    }

    /// `MAX_PARTITIONS_PER_INSTANCE` (`None` if unset).
    pub fn max_partitions_per_instance(&self) -> Option<i32> {
        self.0.simple_parsed(keys::MAX_PARTITIONS_PER_INSTANCE)
    }

    /// `INSTANCE_GROUP_TAG`.
    pub fn instance_group_tag(&self) -> Option<&str> {
        self.0.simple(keys::INSTANCE_GROUP_TAG)
    }

    /// Resource enabled (`HELIX_ENABLED`, default true).
    pub fn enabled(&self) -> bool {
        self.0.simple_bool(keys::HELIX_ENABLED).unwrap_or(true)
    }

    /// Set the resource's `HELIX_ENABLED`.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.record_mut()
            .set_simple(keys::HELIX_ENABLED, enabled.to_string());
    }

    /// `RESOURCE_GROUP_NAME`.
    pub fn resource_group_name(&self) -> Option<&str> {
        self.0.simple(keys::RESOURCE_GROUP_NAME)
    }

    /// `REBALANCE_DELAY` in ms.
    pub fn rebalance_delay(&self) -> Option<i64> {
        self.0.simple_parsed(keys::REBALANCE_DELAY)
    }

    /// Per-transition timeout `"<FROM>-<TO>_TIMEOUT"` in ms.
    pub fn transition_timeout(&self, from: &str, to: &str) -> Option<i64> {
        self.0.simple_parsed(&format!("{from}-{to}_TIMEOUT"))
    }

    /// The partition set: map-field keys for CUSTOMIZED, list-field keys otherwise
    /// (`NUM_PARTITIONS` is not used).
    pub fn partitions(&self) -> Vec<&str> {
        match self.rebalance_mode() {
            RebalanceMode::Customized => self.0.map_fields.keys().map(String::as_str).collect(),
            _ => self.0.list_fields.keys().map(String::as_str).collect(),
        }
    }

    /// Whether `partition` is one of [`IdealState::partitions`] (a lookup,
    /// not a scan).
    pub fn has_partition(&self, partition: &str) -> bool {
        match self.rebalance_mode() {
            RebalanceMode::Customized => self.0.map_fields.contains_key(partition),
            _ => self.0.list_fields.contains_key(partition),
        }
    }

    /// A partition's preference list as written.
    pub fn preference_list(&self, partition: &str) -> Option<&[String]> {
        self.0.list(partition)
    }

    /// Set a partition's preference list.
    pub fn set_preference_list<I, S>(&mut self, partition: &str, instances: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.record_mut().set_list(partition, instances);
    }

    /// A partition's preference list with the `["ANY_LIVEINSTANCE"]` marker expanded
    /// to `assignable_live` (sorted, as Helix does); `None` if the partition has no list.
    pub fn resolved_preference_list(
        &self,
        partition: &str,
        assignable_live: &[String],
    ) -> Option<Vec<String>> {
        let list = self.preference_list(partition)?;
        if IdealState::is_any_live_instance(list) {
            let mut all = assignable_live.to_vec();
            all.sort();
            Some(all)
        } else {
            Some(list.to_vec())
        }
    }

    /// Whether a preference list is the `["ANY_LIVEINSTANCE"]` marker.
    pub fn is_any_live_instance(list: &[String]) -> bool {
        list.len() == 1 && list[0] == ANY_LIVEINSTANCE
    }

    /// A partition's `{instance: state}` map.
    pub fn instance_state_map(&self, partition: &str) -> Option<&FieldMap> {
        self.0.map(partition)
    }

    /// Set one entry of a partition's `{instance: state}` map.
    pub fn set_partition_state(&mut self, partition: &str, instance: &str, state: &str) {
        self.record_mut()
            .map_mut(partition)
            .insert(instance.to_string(), state.to_string());
    }

    /// Helix's `isValid`, with the reason when invalid: `NUM_PARTITIONS` ≥ 0,
    /// `STATE_MODEL_DEF_REF` present, and in SEMI_AUTO a `REPLICAS` value that every
    /// preference list matches in length (unless `ANY_LIVEINSTANCE`).
    pub fn validate(&self) -> Result<(), ModelError> {
        let invalid = |field: &str, value: String, expected| ModelError::InvalidValue {
            field: format!("IdealState '{}' {field}", self.id()),
            value,
            expected,
        };
        match self.num_partitions() {
            Some(n) if n >= 0 => {}
            _ => {
                return Err(invalid(
                    keys::NUM_PARTITIONS,
                    self.0.simple(keys::NUM_PARTITIONS).unwrap_or("").into(),
                    "a non-negative integer",
                ));
            }
        }
        if self.state_model_def_ref().is_none() {
            return Err(ModelError::MissingField {
                record: "IdealState",
                id: self.id().into(),
                field: keys::STATE_MODEL_DEF_REF.into(),
            });
        }
        if self.rebalance_mode() == RebalanceMode::SemiAuto {
            match self.replicas() {
                None => {
                    return Err(invalid(
                        keys::REPLICAS,
                        self.0.simple(keys::REPLICAS).unwrap_or("").into(),
                        "a replica count or ANY_LIVEINSTANCE",
                    ));
                }
                Some(Replicas::AnyLiveInstance) => {}
                Some(Replicas::Count(n)) => {
                    for partition in self.partitions() {
                        let len = self.preference_list(partition).map_or(0, <[String]>::len);
                        if i32::try_from(len).ok() != Some(n) {
                            return Err(invalid(
                                partition,
                                format!("{len} instances"),
                                "a preference list as long as REPLICAS",
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether [`IdealState::validate`] passes.
    pub fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebalance_mode_and_legacy_mapping() {
        let mut is = IdealState::new("R");
        assert_eq!(is.rebalance_mode(), RebalanceMode::SemiAuto);
        for (mode, legacy) in [
            (RebalanceMode::FullAuto, "AUTO_REBALANCE"),
            (RebalanceMode::SemiAuto, "AUTO"),
            (RebalanceMode::Customized, "CUSTOMIZED"),
            (RebalanceMode::UserDefined, "AUTO"),
            (RebalanceMode::Task, "AUTO"),
        ] {
            is.set_rebalance_mode(mode);
            assert_eq!(is.rebalance_mode(), mode);
            assert_eq!(is.record().simple(keys::IDEAL_STATE_MODE), Some(legacy));
        }
        is.record_mut().remove_simple(keys::REBALANCE_MODE);
        is.record_mut()
            .set_simple(keys::IDEAL_STATE_MODE, "AUTO_REBALANCE");
        assert_eq!(is.rebalance_mode(), RebalanceMode::FullAuto);
        is.record_mut()
            .set_simple(keys::IDEAL_STATE_MODE, "CUSTOMIZED");
        assert_eq!(is.rebalance_mode(), RebalanceMode::Customized);
        is.record_mut().set_simple(keys::REBALANCE_MODE, "NONE");
        assert_eq!(is.rebalance_mode(), RebalanceMode::Customized);
        is.record_mut()
            .set_simple(keys::IDEAL_STATE_MODE, "USER_DEFINED");
        is.record_mut().set_simple(
            keys::REBALANCER_CLASS_NAME,
            "org.apache.helix.task.JobRebalancer",
        );
        assert_eq!(is.rebalance_mode(), RebalanceMode::Task);
        is.record_mut()
            .set_simple(keys::REBALANCER_CLASS_NAME, "my.Rebalancer");
        assert_eq!(is.rebalance_mode(), RebalanceMode::UserDefined);

        assert_eq!(
            RebalanceMode::parse_lenient("auto"),
            Some(RebalanceMode::SemiAuto)
        );
        assert_eq!(
            RebalanceMode::parse_lenient("FULL_AUTO"),
            Some(RebalanceMode::FullAuto)
        );
        assert_eq!(RebalanceMode::parse_lenient("bogus"), None);
    }

    #[test]
    fn partitions_follow_the_mode() {
        let mut is =
            IdealState::for_new_resource("R", 2, "MasterSlave", RebalanceMode::SemiAuto, "DEFAULT");
        is.set_preference_list("R_0", ["a", "b"]);
        is.set_partition_state("R_9", "a", "MASTER");
        assert_eq!(is.partitions(), ["R_0"]);
        is.set_rebalance_mode(RebalanceMode::Customized);
        assert_eq!(is.partitions(), ["R_9"]);
    }

    #[test]
    fn replicas_and_validity() {
        let mut is =
            IdealState::for_new_resource("R", 1, "MasterSlave", RebalanceMode::SemiAuto, "DEFAULT");
        assert_eq!(is.replicas(), Some(Replicas::Count(0)));
        is.set_replicas(Replicas::Count(2));
        is.set_preference_list("R_0", ["a"]);
        assert!(!is.is_valid());
        is.set_preference_list("R_0", ["a", "b"]);
        assert!(is.is_valid());
        is.set_replicas(Replicas::AnyLiveInstance);
        is.set_preference_list("R_0", [ANY_LIVEINSTANCE]);
        assert!(is.is_valid());
        assert!(IdealState::is_any_live_instance(
            is.preference_list("R_0").unwrap_or_default()
        ));
        assert_eq!(Replicas::AnyLiveInstance.resolve(4), 4);
        let live = ["b".to_string(), "a".to_string()];
        assert_eq!(
            is.resolved_preference_list("R_0", &live),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(is.resolved_preference_list("R_7", &live), None);
        is.record_mut().remove_simple(keys::STATE_MODEL_DEF_REF);
        assert!(matches!(
            is.validate(),
            Err(ModelError::MissingField { .. })
        ));
        is.record_mut().remove_simple(keys::NUM_PARTITIONS);
        assert!(matches!(
            is.validate(),
            Err(ModelError::InvalidValue { .. })
        ));
    }
}
