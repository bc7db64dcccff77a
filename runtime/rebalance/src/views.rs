//! External views and default customized views as pure functions:
//! Helix's `ExternalViewComputeStage` and the default aggregation of
//! `CustomizedViewAggregationStage`.

use std::collections::BTreeMap;

use strand_model::{CustomizedState, CustomizedView, ExternalView, ZNRecord};

use crate::snapshot::Snapshot;

/// The external view of `resource`: every live instance's current state of
/// every partition (ERROR included), with the ideal state's simple fields
/// (or, when the ideal state is gone, the previous view's). `None` when
/// the ideal state disables external views.
pub fn external_view(
    snapshot: &Snapshot,
    resource: &str,
    previous: Option<&ExternalView>,
) -> Option<ExternalView> {
    let ideal = snapshot.ideal_states.get(resource);
    if ideal.is_some_and(|i| i.record().simple_bool("EXTERNAL_VIEW_DISABLED") == Some(true)) {
        return None;
    }
    let mut record = ZNRecord::new(resource);
    let simple_source = ideal.map(|i| i.record()).or(previous.map(|v| v.record()));
    if let Some(source) = simple_source {
        record.simple_fields = source.simple_fields.clone();
    }
    if record.simple("BUCKET_SIZE").is_none() {
        record.set_simple("BUCKET_SIZE", "0");
    }
    let mut view = ExternalView::from(record);
    for partition in snapshot.partitions(resource) {
        for (instance, state) in snapshot.holders(resource, &partition) {
            view.set_state(&partition, &instance, &state);
        }
    }
    Some(view)
}

/// The default customized view of one type for one resource: partition →
/// instance → `CURRENT_STATE`, from live instances only, for partitions
/// the resource has. `states` maps instance → that instance's customized
/// state record for the resource.
pub fn default_customized_view(
    snapshot: &Snapshot,
    resource: &str,
    states: &BTreeMap<String, CustomizedState>,
) -> CustomizedView {
    let partitions = snapshot.partitions(resource);
    let mut view = CustomizedView::new(resource);
    for (instance, state) in states {
        if !snapshot.is_live(instance) {
            continue;
        }
        for (partition, value) in state.partition_states() {
            if partitions.contains(partition) {
                view.set_state(partition, instance, value);
            }
        }
    }
    view
}
