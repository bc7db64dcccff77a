//! Which views to write and remove this run — Helix's
//! `ExternalViewComputeStage` and `CustomizedViewAggregationStage`:
//!
//! * an external view per resource, written only when it differs from
//!   what is in ZooKeeper; removed when its resource is gone (no ideal
//!   state and no live replica) or its ideal state disables it;
//! * for each type in `AGGREGATION_ENABLED_TYPES` that some live instance
//!   reports, a customized view per resource at `CUSTOMIZEDVIEW/<T>/<R>`,
//!   written only on change, views of resources that are gone removed;
//!   the whole `CUSTOMIZEDVIEW/<T>` removed once no live instance reports
//!   the type (or it is no longer enabled).
//!
//! "What is in ZooKeeper" is the cache, except for records this
//! controller wrote and the cache has not caught up with yet
//! ([`Written`]): comparing against those keeps a lagging cache from
//! causing duplicate writes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use strand_model::{CustomizedView, PropertyPaths, ZNRecord};
use strand_rebalance::views;

use crate::aggregate::Aggregators;
use crate::read::ClusterState;

/// Records written by this controller that the cache may not show yet.
#[derive(Debug, Default)]
pub(crate) struct Written {
    records: HashMap<String, ZNRecord>,
}

impl Written {
    /// Forgets entries the cache has caught up with (or that changed
    /// since): from then on the cache is the reference.
    pub(crate) fn settle(&mut self, in_zk: impl Fn(&str) -> Option<ZNRecord>) {
        self.records
            .retain(|path, record| in_zk(path).as_ref() != Some(&*record));
    }

    pub(crate) fn record(&mut self, path: &str, record: &ZNRecord) {
        self.records.insert(path.to_owned(), record.clone());
    }

    pub(crate) fn forget_under(&mut self, prefix: &str) {
        self.records
            .retain(|path, _| path != prefix && !path.starts_with(&format!("{prefix}/")));
    }

    fn get(&self, path: &str) -> Option<&ZNRecord> {
        self.records.get(path)
    }
}

/// The view writes of one run.
#[derive(Debug, Default)]
pub(crate) struct ViewWrites {
    /// Records to write.
    pub put: Vec<(String, ZNRecord)>,
    /// Znodes to delete (with their subtrees).
    pub delete: Vec<String>,
}

/// External views to write and delete.
pub(crate) fn external_views(
    state: &ClusterState,
    resources: &BTreeSet<String>,
    paths: &PropertyPaths,
    written: &Written,
) -> ViewWrites {
    let mut out = ViewWrites::default();
    for resource in resources {
        let path = paths.external_view(resource);
        let existing = state.external_views.get(resource);
        match views::external_view(&state.snapshot, resource, existing) {
            Some(view) => {
                let current = written.get(&path).or(existing.map(|v| v.record()));
                if current != Some(view.record()) {
                    out.put.push((path, view.into_record()));
                }
            }
            None => {
                if existing.is_some() {
                    out.delete.push(path);
                }
            }
        }
    }
    for resource in state.external_views.keys() {
        if !resources.contains(resource) {
            out.delete.push(paths.external_view(resource));
        }
    }
    out
}

/// Customized views to write and delete.
pub(crate) fn customized_views(
    state: &ClusterState,
    resources: &BTreeSet<String>,
    paths: &PropertyPaths,
    written: &Written,
    aggregators: &Aggregators,
) -> ViewWrites {
    let mut out = ViewWrites::default();
    let snapshot = &state.snapshot;
    let empty = BTreeMap::new();
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for customized_type in &state.customized_types {
        let Some(by_resource) = state.customized.get(customized_type) else {
            continue;
        };
        // Only states of live instances, for known resources and
        // partitions, count (Helix's CustomizedStateComputationStage).
        let any = resources.iter().any(|r| {
            let partitions = snapshot.partitions(r);
            by_resource.get(r).is_some_and(|states| {
                states.iter().any(|(instance, s)| {
                    snapshot.is_live(instance) && s.partitions().any(|p| partitions.contains(p))
                })
            })
        });
        if !any {
            continue;
        }
        reported.insert(customized_type);
        let existing = state.customized_views.get(customized_type);
        for resource in resources {
            let states = by_resource.get(resource).unwrap_or(&empty);
            let default = views::default_customized_view(snapshot, resource, states);
            let view = aggregators.view(
                paths.cluster_name(),
                customized_type,
                resource,
                states,
                default,
            );
            let path = paths.customized_view(customized_type, resource);
            let in_zk = existing
                .and_then(|v| v.get(resource))
                .map(CustomizedView::record);
            let current = written.get(&path).or(in_zk);
            if current != Some(view.record()) {
                out.put.push((path, view.into_record()));
            }
        }
        if let Some(existing) = existing {
            for resource in existing.keys() {
                if !resources.contains(resource) {
                    out.delete
                        .push(paths.customized_view(customized_type, resource));
                }
            }
        }
    }
    for customized_type in state.customized_views.keys() {
        if !reported.contains(customized_type.as_str()) {
            out.delete
                .push(paths.customized_views_of_type(customized_type));
        }
    }
    out
}
