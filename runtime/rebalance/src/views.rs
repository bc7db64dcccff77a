//! External views and default customized views as pure functions:
//! Helix's `ExternalViewComputeStage` and the default aggregation of
//! `CustomizedViewAggregationStage` — whole views, and the per-partition
//! pieces the controller uses to keep its views up to date change by
//! change.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use strand_model::{CustomizedState, CustomizedView, ExternalView, FieldMap, ZNRecord};

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
    let mut view = external_view_header(snapshot, resource, previous)?;
    for partition in snapshot.partitions(resource) {
        if let Some(states) = external_view_partition(snapshot, resource, &partition) {
            view.set_state_map(&partition, states);
        }
    }
    Some(view)
}

/// An external view of `resource` without partitions: the ideal state's
/// simple fields (or the previous view's when the ideal state is gone) and
/// `BUCKET_SIZE`. `None` when the ideal state disables external views.
pub fn external_view_header(
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
    Some(ExternalView::from(record))
}

/// One partition's external-view map (instance → state, sorted by
/// instance); `None` when no live instance holds it.
pub fn external_view_partition(
    snapshot: &Snapshot,
    resource: &str,
    partition: &str,
) -> Option<FieldMap> {
    let states: FieldMap = snapshot
        .holders(resource, partition)
        .into_iter()
        .map(|(instance, state)| (instance.to_owned(), state.to_owned()))
        .collect();
    (!states.is_empty()).then_some(states)
}

/// The default customized view of one type for one resource: partition →
/// instance → `CURRENT_STATE`, from live instances only, for partitions
/// the resource has. `states` maps instance → that instance's customized
/// state record for the resource.
pub fn default_customized_view<S: Borrow<CustomizedState>>(
    snapshot: &Snapshot,
    resource: &str,
    states: &BTreeMap<String, S>,
) -> CustomizedView {
    let partitions = snapshot.partitions(resource);
    let mut view = CustomizedView::new(resource);
    for (instance, state) in states {
        if !snapshot.is_live(instance) {
            continue;
        }
        for (partition, value) in state.borrow().partition_states() {
            if partitions.contains(partition) {
                view.set_state(partition, instance, value);
            }
        }
    }
    view
}

/// One partition's default customized-view map (instance → `CURRENT_STATE`
/// of live instances, sorted by instance); `None` when no live instance
/// reports it or the resource has no such partition.
pub fn default_customized_partition<S: Borrow<CustomizedState>>(
    snapshot: &Snapshot,
    resource: &str,
    partition: &str,
    states: &BTreeMap<String, S>,
) -> Option<FieldMap> {
    if !snapshot.has_partition(resource, partition) {
        return None;
    }
    let map: FieldMap = states
        .iter()
        .filter(|(instance, _)| snapshot.is_live(instance))
        .filter_map(|(instance, state)| {
            let value = state.borrow().state(partition)?;
            Some((instance.clone(), value.to_owned()))
        })
        .collect();
    (!map.is_empty()).then_some(map)
}
