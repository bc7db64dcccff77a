//! Customized-view aggregation per type: Helix's default (each live
//! instance's `CURRENT_STATE`, as is) unless an aggregator is bound to the
//! type, which then computes each partition's view from the per-instance
//! states. A failing aggregator falls back to the default for that
//! partition and the reason is logged.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use strand_model::CustomizedView;
use tracing::warn;

/// Computes one partition's customized view from its per-instance states.
pub trait ViewAggregator: Send + Sync {
    /// `states` are (instance, state) pairs of live instances, sorted by
    /// instance; the result is the partition's view map (instance → value).
    ///
    /// # Errors
    /// A message saying why the aggregation failed; the controller then
    /// uses the default view for the partition.
    fn aggregate(
        &self,
        customized_type: &str,
        resource: &str,
        partition: &str,
        states: &[(String, String)],
    ) -> Result<Vec<(String, String)>, String>;
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

    /// Whether a type has an aggregator.
    pub fn is_bound(&self, customized_type: &str) -> bool {
        self.by_type.contains_key(customized_type)
    }

    /// The view of `resource` for `customized_type`: `default` as is, or
    /// recomputed partition by partition by the bound aggregator.
    pub fn view(
        &self,
        customized_type: &str,
        resource: &str,
        default: CustomizedView,
    ) -> CustomizedView {
        let Some(aggregator) = self.by_type.get(customized_type) else {
            return default;
        };
        let mut view = CustomizedView::new(resource);
        for partition in default.partitions() {
            let states: Vec<(String, String)> = default
                .state_map(partition)
                .map(|m| m.iter().map(|(i, s)| (i.clone(), s.clone())).collect())
                .unwrap_or_default();
            let map = match aggregator.aggregate(customized_type, resource, partition, &states) {
                Ok(map) => map,
                Err(reason) => {
                    warn!(
                        customized_type,
                        resource,
                        partition,
                        reason,
                        "aggregator failed; using the default view for this partition"
                    );
                    states
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
        fn aggregate(
            &self,
            _: &str,
            _: &str,
            partition: &str,
            states: &[(String, String)],
        ) -> Result<Vec<(String, String)>, String> {
            if partition.ends_with("_1") {
                return Err("boom".into());
            }
            Ok(vec![("count".into(), states.len().to_string())])
        }
    }

    #[test]
    fn bound_type_is_aggregated_and_failures_fall_back() {
        let mut default = CustomizedView::new("db");
        default.set_state("db_0", "a", "X");
        default.set_state("db_0", "b", "Y");
        default.set_state("db_1", "a", "Z");
        let mut aggregators = Aggregators::default();
        assert_eq!(aggregators.view("T", "db", default.clone()), default);
        aggregators.bind("T", Arc::new(Count));
        let view = aggregators.view("T", "db", default);
        assert_eq!(
            view.state_map("db_0")
                .and_then(|m| m.get("count"))
                .map(String::as_str),
            Some("2")
        );
        assert_eq!(
            view.state_map("db_1")
                .and_then(|m| m.get("a"))
                .map(String::as_str),
            Some("Z")
        );
        assert!(
            !aggregators
                .view("U", "db", CustomizedView::new("db"))
                .partitions()
                .any(|_| true)
        );
    }
}
