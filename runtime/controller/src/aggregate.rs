//! Customized-view aggregation per type: Helix's default (each live
//! instance's `CURRENT_STATE`, as is) unless an aggregator is bound to the
//! type, which then computes each partition's view from the per-instance
//! states. A failing aggregator falls back to the default for that
//! partition and the reason is logged.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use strand_model::{CustomizedState, CustomizedView, FieldMap};
use tracing::warn;

/// One live instance's customized state of one partition: every field of
/// its map (`CURRENT_STATE`, `PREVIOUS_STATE`, `START_TIME`, …).
#[derive(Debug, Clone, Copy)]
pub struct InstanceFields<'a> {
    /// The instance.
    pub instance: &'a str,
    /// Its fields for the partition.
    pub fields: &'a FieldMap,
}

/// What an aggregator sees of one partition.
#[derive(Debug, Clone)]
pub struct PartitionInput<'a> {
    /// The cluster.
    pub cluster: &'a str,
    /// The customized-state type.
    pub customized_type: &'a str,
    /// The resource.
    pub resource: &'a str,
    /// The partition.
    pub partition: &'a str,
    /// Live instances reporting the partition, sorted by instance.
    pub states: Vec<InstanceFields<'a>>,
}

/// Computes one partition's customized view from its per-instance states.
pub trait ViewAggregator: Send + Sync {
    /// The partition's view map (key → value; Helix's default is
    /// instance → `CURRENT_STATE`).
    ///
    /// # Errors
    /// A message saying why the aggregation failed; the controller then
    /// uses the default view for the partition.
    fn aggregate(&self, input: &PartitionInput<'_>) -> Result<Vec<(String, String)>, String>;
}

/// The aggregators bound to customized-state types.
#[derive(Clone, Default)]
pub struct Aggregators {
    by_type: HashMap<String, Arc<dyn ViewAggregator>>,
}

impl fmt::Debug for Aggregators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aggregators")
            .field("types", &self.by_type.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Aggregators {
    /// Binds `aggregator` to `customized_type`.
    pub fn bind(
        &mut self,
        customized_type: impl Into<String>,
        aggregator: Arc<dyn ViewAggregator>,
    ) {
        self.by_type.insert(customized_type.into(), aggregator);
    }

    /// The aggregator bound to a type, if any.
    pub fn get(&self, customized_type: &str) -> Option<Arc<dyn ViewAggregator>> {
        self.by_type.get(customized_type).cloned()
    }

    /// Whether a type has an aggregator.
    pub fn is_bound(&self, customized_type: &str) -> bool {
        self.by_type.contains_key(customized_type)
    }

    /// These bindings plus `more` for the types not bound here.
    pub(crate) fn with_fallbacks(
        &self,
        more: impl IntoIterator<Item = (String, Arc<dyn ViewAggregator>)>,
    ) -> Self {
        let mut all = self.clone();
        for (customized_type, aggregator) in more {
            all.by_type.entry(customized_type).or_insert(aggregator);
        }
        all
    }

    /// The view of `resource` for `customized_type`: `default` (Helix's
    /// view of `states`) as is, or recomputed partition by partition by
    /// the bound aggregator from the full per-instance `states`.
    pub fn view(
        &self,
        cluster: &str,
        customized_type: &str,
        resource: &str,
        states: &BTreeMap<String, CustomizedState>,
        default: CustomizedView,
    ) -> CustomizedView {
        let Some(aggregator) = self.by_type.get(customized_type) else {
            return default;
        };
        let mut view = CustomizedView::new(resource);
        for partition in default.partitions() {
            let Some(default_map) = default.state_map(partition) else {
                continue;
            };
            // The instances of the default view are the live ones that
            // report the partition; the aggregator sees all their fields.
            let input = PartitionInput {
                cluster,
                customized_type,
                resource,
                partition,
                states: default_map
                    .keys()
                    .filter_map(|instance| {
                        let fields = states.get(instance)?.record().map(partition)?;
                        Some(InstanceFields {
                            instance: instance.as_str(),
                            fields,
                        })
                    })
                    .collect(),
            };
            let map = match aggregator.aggregate(&input) {
                Ok(map) => map,
                Err(reason) => {
                    warn!(
                        customized_type,
                        resource,
                        partition,
                        reason,
                        "aggregator failed; using the default view for this partition"
                    );
                    default_map
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                }
            };
            for (key, value) in map {
                view.set_state(partition, &key, &value);
            }
        }
        view
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Count;

    impl ViewAggregator for Count {
        fn aggregate(&self, input: &PartitionInput<'_>) -> Result<Vec<(String, String)>, String> {
            if input.partition.ends_with("_1") {
                return Err("boom".into());
            }
            let with_previous = input
                .states
                .iter()
                .filter(|s| s.fields.contains_key("PREVIOUS_STATE"))
                .count();
            Ok(vec![
                ("count".into(), input.states.len().to_string()),
                ("with_previous".into(), with_previous.to_string()),
            ])
        }
    }

    fn states() -> BTreeMap<String, CustomizedState> {
        let mut a = CustomizedState::new("db");
        a.set_state("db_0", "X", None);
        a.set_state("db_1", "Z", None);
        a.record_mut()
            .map_mut("db_0")
            .insert("PREVIOUS_STATE".into(), "W".into());
        let mut b = CustomizedState::new("db");
        b.set_state("db_0", "Y", None);
        BTreeMap::from([("a".to_owned(), a), ("b".to_owned(), b)])
    }

    fn default_view() -> CustomizedView {
        let mut default = CustomizedView::new("db");
        default.set_state("db_0", "a", "X");
        default.set_state("db_0", "b", "Y");
        default.set_state("db_1", "a", "Z");
        default
    }

    #[test]
    fn bound_type_is_aggregated_from_all_fields_and_failures_fall_back() {
        let states = states();
        let mut aggregators = Aggregators::default();
        assert_eq!(
            aggregators.view("C", "T", "db", &states, default_view()),
            default_view()
        );
        aggregators.bind("T", Arc::new(Count));
        let view = aggregators.view("C", "T", "db", &states, default_view());
        let get = |p: &str, k: &str| {
            view.state_map(p)
                .and_then(|m| m.get(k))
                .map(String::as_str)
                .map(str::to_owned)
        };
        assert_eq!(get("db_0", "count").as_deref(), Some("2"));
        assert_eq!(get("db_0", "with_previous").as_deref(), Some("1"));
        assert_eq!(get("db_1", "a").as_deref(), Some("Z"));
        assert!(
            !aggregators
                .view("C", "U", "db", &states, CustomizedView::new("db"))
                .partitions()
                .any(|_| true)
        );
    }

    #[test]
    fn configured_bindings_win_over_fallbacks() {
        let mut configured = Aggregators::default();
        configured.bind("T", Arc::new(Count));
        let all = configured.with_fallbacks([
            ("T".to_owned(), Arc::new(Count) as Arc<dyn ViewAggregator>),
            ("U".to_owned(), Arc::new(Count) as Arc<dyn ViewAggregator>),
        ]);
        assert!(all.is_bound("T") && all.is_bound("U") && !all.is_bound("V"));
        assert!(Arc::ptr_eq(&all.by_type["T"], &configured.by_type["T"]));
    }
}
