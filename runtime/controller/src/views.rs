//! [`ViewBook`]: the external and customized views as they should be,
//! kept up to date partition by partition, and when to write them —
//! Helix's `ExternalViewComputeStage` and `CustomizedViewAggregationStage`:
//!
//! * an external view per resource (the live instances' current states);
//!   removed when its resource is gone (no ideal state and no live
//!   replica) or its ideal state disables it;
//! * for each type in `AGGREGATION_ENABLED_TYPES` that some live instance
//!   reports, a customized view per resource at `CUSTOMIZEDVIEW/<T>/<R>`;
//!   the whole `CUSTOMIZEDVIEW/<T>` removed once no live instance reports
//!   the type (or it is no longer enabled).
//!
//! # When views are written
//! A view is written only when it differs from what ZooKeeper holds (the
//! cache, or this controller's own last write while the cache has not
//! caught up). Bursts are coalesced: a view is written at once when its
//! last write is older than the write interval, and otherwise at the end
//! of the interval — except when the change moves, removes or restores a
//! top state (a failover or handoff readers must see now), and when the
//! cluster has converged (nothing more is coming). So a cold start writes
//! a view a few times, not once per transition, and a failover is visible
//! as soon as it happens.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use strand_model::{CustomizedView, FieldMap, PropertyPaths, ZNRecord};
use strand_rebalance::{Snapshot, views};

use crate::model::InZk;

/// One view: what it should be, what was last written, and when.
#[derive(Debug, Default)]
pub(crate) struct Tracked {
    /// The view as it should be; `None` when it must not exist.
    computed: Option<ZNRecord>,
    /// This controller's last write while the cache has not shown it yet.
    written: Option<Written>,
    /// When the view was last written.
    last_write: Option<Instant>,
    /// A pending change readers must see at once.
    urgent: bool,
    /// Partitions whose top state the written view lost (external views).
    orphans: BTreeSet<String>,
    /// The resource's top state (external views).
    top: Option<String>,
}

#[derive(Debug, Clone)]
struct Written {
    /// The record written, or `None` for a delete.
    record: Option<ZNRecord>,
    /// The znode version the write produced.
    version: i32,
}

/// A write of one view.
#[derive(Debug, Clone)]
pub(crate) enum ViewWrite {
    /// Write the record.
    Put(String, Box<ZNRecord>),
    /// Delete the znode and its subtree.
    Delete(String),
}

/// Which view a write is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ViewKey {
    /// `EXTERNALVIEW/<resource>`.
    External(String),
    /// `CUSTOMIZEDVIEW/<type>/<resource>`.
    Customized(String, String),
    /// `CUSTOMIZEDVIEW/<type>`, the whole type.
    CustomizedType(String),
}

impl Tracked {
    /// Forgets this controller's last write once the cache shows it (or
    /// something newer): from then on the cache is the reference.
    fn settle(&mut self, cache: Option<&InZk>) {
        if let Some(written) = &self.written {
            let caught_up = match (&written.record, cache) {
                (None, None) => true,
                (Some(_), Some(seen)) => seen.version >= written.version,
                _ => false,
            };
            if caught_up {
                self.written = None;
            }
        }
    }

    /// What ZooKeeper holds, as far as this controller knows: its own
    /// write until the cache has caught up with it (see
    /// [`Tracked::settle`]), the cache after.
    fn visible<'a>(&'a self, cache: Option<&'a InZk>) -> Option<&'a ZNRecord> {
        match &self.written {
            Some(written) => written.record.as_ref(),
            None => cache.map(|seen| seen.record.as_ref()),
        }
    }
}

/// The controller's views.
#[derive(Debug)]
pub(crate) struct ViewBook {
    paths: PropertyPaths,
    interval: Duration,
    external: BTreeMap<String, Tracked>,
    customized: BTreeMap<(String, String), Tracked>,
    /// Customized types whose folder is to be removed.
    removed_types: BTreeSet<String>,
    /// Views that may differ from what ZooKeeper holds: the only ones a
    /// run compares (so a run's cost follows what changed, not how many
    /// views there are).
    changed: BTreeSet<ViewKey>,
}

impl ViewBook {
    pub(crate) fn new(paths: PropertyPaths, interval: Duration) -> Self {
        Self {
            paths,
            interval,
            external: BTreeMap::new(),
            customized: BTreeMap::new(),
            removed_types: BTreeSet::new(),
            changed: BTreeSet::new(),
        }
    }

    /// ZooKeeper's copy of `resource`'s external view changed (perhaps by
    /// another writer): compare it again.
    pub(crate) fn touch_external(&mut self, resource: &str) {
        if self.external.contains_key(resource) {
            self.changed.insert(ViewKey::External(resource.to_owned()));
        }
    }

    /// ZooKeeper's copy of a customized view changed: compare it again.
    pub(crate) fn touch_customized(&mut self, state_type: &str, resource: &str) {
        let key = (state_type.to_owned(), resource.to_owned());
        if self.customized.contains_key(&key) {
            self.changed.insert(ViewKey::Customized(key.0, key.1));
        }
    }

    fn customized_changed(&mut self, state_type: &str, resource: &str) {
        self.changed.insert(ViewKey::Customized(
            state_type.to_owned(),
            resource.to_owned(),
        ));
    }

    /// Recomputes `partitions` (or every partition, with `None`) of
    /// `resource`'s external view. `top` is the resource's top state: a
    /// change of a partition's top-state holders that readers must see at
    /// once makes the view urgent.
    pub(crate) fn update_external(
        &mut self,
        snapshot: &Snapshot,
        resource: &str,
        partitions: Option<&[String]>,
        in_zk: Option<&InZk>,
        top: Option<&str>,
    ) {
        self.changed.insert(ViewKey::External(resource.to_owned()));
        let tracked = self.external.entry(resource.to_owned()).or_default();
        let previous =
            in_zk.map(|v| strand_model::ExternalView::from(std::sync::Arc::clone(&v.record)));
        let Some(header) = views::external_view_header(snapshot, resource, previous.as_ref())
        else {
            tracked.computed = None;
            return;
        };
        let mut touched: Vec<String> = Vec::new();
        match (&mut tracked.computed, partitions) {
            (Some(view), Some(partitions))
                if view.simple_fields == header.record().simple_fields =>
            {
                for partition in partitions {
                    let states = views::external_view_partition(snapshot, resource, partition);
                    if view.map(partition) == states.as_ref() {
                        continue;
                    }
                    match states {
                        Some(states) => view.set_map_field(partition, states),
                        None => {
                            view.map_fields.shift_remove(partition.as_str());
                        }
                    }
                    touched.push(partition.clone());
                }
            }
            _ => {
                let full = views::external_view(snapshot, resource, previous.as_ref())
                    .map(|v| v.into_record())
                    .unwrap_or_else(|| header.into_record());
                touched.extend(full.map_fields.keys().cloned());
                if let Some(old) = &tracked.computed {
                    touched.extend(
                        old.map_fields
                            .keys()
                            .filter(|p| !full.map_fields.contains_key(*p))
                            .cloned(),
                    );
                }
                tracked.computed = Some(full);
            }
        }
        tracked.top = top.map(str::to_owned);
        let Some(top) = top else {
            return;
        };
        tracked.settle(in_zk);
        let urgent = match (tracked.computed.as_ref(), tracked.visible(in_zk)) {
            (Some(computed), Some(visible)) => touched.iter().any(|partition| {
                let now = top_holders(computed.map(partition), top);
                let shown = top_holders(visible.map(partition), top);
                now != shown && (!shown.is_empty() || tracked.orphans.contains(partition))
            }),
            _ => false,
        };
        tracked.urgent |= urgent;
    }

    /// The resource is gone: its external view goes too.
    pub(crate) fn external_gone(&mut self, resource: &str) {
        self.changed.insert(ViewKey::External(resource.to_owned()));
        self.external
            .entry(resource.to_owned())
            .or_default()
            .computed = None;
    }

    /// Sets one partition of a customized view (`None` removes it); builds
    /// the view if it has none yet.
    pub(crate) fn set_customized_partition(
        &mut self,
        state_type: &str,
        resource: &str,
        partition: &str,
        map: Option<Vec<(String, String)>>,
    ) {
        self.customized_changed(state_type, resource);
        let tracked = self
            .customized
            .entry((state_type.to_owned(), resource.to_owned()))
            .or_default();
        let view = tracked
            .computed
            .get_or_insert_with(|| CustomizedView::new(resource).into_record());
        view.map_fields.shift_remove(partition);
        if let Some(map) = map {
            let mut typed = CustomizedView::from(std::mem::take(view));
            for (key, value) in map {
                typed.set_state(partition, &key, &value);
            }
            *view = typed.into_record();
        }
    }

    /// Makes sure a (possibly empty) customized view exists for the pair.
    pub(crate) fn ensure_customized(&mut self, state_type: &str, resource: &str) {
        self.removed_types.remove(state_type);
        self.customized_changed(state_type, resource);
        self.customized
            .entry((state_type.to_owned(), resource.to_owned()))
            .or_default()
            .computed
            .get_or_insert_with(|| CustomizedView::new(resource).into_record());
    }

    /// Starts a customized view afresh (every partition to be set again).
    pub(crate) fn reset_customized(&mut self, state_type: &str, resource: &str) {
        self.removed_types.remove(state_type);
        self.customized_changed(state_type, resource);
        self.customized
            .entry((state_type.to_owned(), resource.to_owned()))
            .or_default()
            .computed = Some(CustomizedView::new(resource).into_record());
    }

    /// The customized view of the pair must not exist.
    pub(crate) fn customized_gone(&mut self, state_type: &str, resource: &str) {
        self.customized_changed(state_type, resource);
        self.customized
            .entry((state_type.to_owned(), resource.to_owned()))
            .or_default()
            .computed = None;
    }

    /// The whole type's folder goes (nobody reports the type).
    pub(crate) fn customized_type_gone(&mut self, state_type: &str) {
        self.customized.retain(|(t, _), _| t != state_type);
        self.changed
            .retain(|key| !matches!(key, ViewKey::Customized(t, _) if t == state_type));
        self.removed_types.insert(state_type.to_owned());
    }

    /// The resources with a tracked customized view of `state_type`.
    pub(crate) fn customized_resources(&self, state_type: &str) -> Vec<String> {
        self.customized
            .keys()
            .filter(|(t, _)| t == state_type)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// The tracked view of `key` and ZooKeeper's copy of it.
    fn entry<'a>(
        external: &'a mut BTreeMap<String, Tracked>,
        customized: &'a mut BTreeMap<(String, String), Tracked>,
        key: &ViewKey,
        external_in_zk: &'a BTreeMap<String, InZk>,
        customized_in_zk: &'a BTreeMap<String, BTreeMap<String, InZk>>,
    ) -> Option<(&'a mut Tracked, Option<&'a InZk>)> {
        match key {
            ViewKey::External(resource) => {
                Some((external.get_mut(resource)?, external_in_zk.get(resource)))
            }
            ViewKey::Customized(state_type, resource) => Some((
                customized.get_mut(&(state_type.clone(), resource.clone()))?,
                customized_in_zk
                    .get(state_type)
                    .and_then(|views| views.get(resource)),
            )),
            ViewKey::CustomizedType(_) => None,
        }
    }

    /// The znode of a view.
    fn path(&self, key: &ViewKey) -> String {
        match key {
            ViewKey::External(resource) => self.paths.external_view(resource),
            ViewKey::Customized(state_type, resource) => {
                self.paths.customized_view(state_type, resource)
            }
            ViewKey::CustomizedType(state_type) => self.paths.customized_views_of_type(state_type),
        }
    }

    /// The changed views still out of step with ZooKeeper, each settled
    /// against what ZooKeeper holds; views back in step (or no longer
    /// tracked) leave `changed`.
    fn out_of_step(
        &mut self,
        external_in_zk: &BTreeMap<String, InZk>,
        customized_in_zk: &BTreeMap<String, BTreeMap<String, InZk>>,
    ) -> Vec<ViewKey> {
        let mut pending = Vec::new();
        let keys: Vec<ViewKey> = self.changed.iter().cloned().collect();
        for key in keys {
            let in_step = match Self::entry(
                &mut self.external,
                &mut self.customized,
                &key,
                external_in_zk,
                customized_in_zk,
            ) {
                None => true,
                Some((tracked, in_zk)) => {
                    tracked.settle(in_zk);
                    let in_step = tracked.visible(in_zk) == tracked.computed.as_ref();
                    if in_step {
                        tracked.urgent = false;
                    }
                    in_step
                }
            };
            if in_step {
                self.changed.remove(&key);
            } else {
                pending.push(key);
            }
        }
        pending
    }

    /// When the earliest delayed write is due, if one is waiting (now,
    /// when one is due already).
    pub(crate) fn next_due(
        &mut self,
        external_in_zk: &BTreeMap<String, InZk>,
        customized_in_zk: &BTreeMap<String, BTreeMap<String, InZk>>,
    ) -> Option<Instant> {
        let interval = self.interval;
        let mut next: Option<Instant> = None;
        for key in self.out_of_step(external_in_zk, customized_in_zk) {
            let Some((tracked, _)) = Self::entry(
                &mut self.external,
                &mut self.customized,
                &key,
                external_in_zk,
                customized_in_zk,
            ) else {
                continue;
            };
            let at = match tracked.last_write {
                Some(last) if !tracked.urgent => last + interval,
                _ => return Some(Instant::now()),
            };
            next = Some(next.map_or(at, |n| n.min(at)));
        }
        next
    }

    /// The writes due now. `flush` writes every pending change at once
    /// (the cluster converged).
    pub(crate) fn due(
        &mut self,
        now: Instant,
        flush: bool,
        external_in_zk: &BTreeMap<String, InZk>,
        customized_in_zk: &BTreeMap<String, BTreeMap<String, InZk>>,
        customized_types_in_zk: &BTreeSet<String>,
    ) -> Vec<(ViewKey, ViewWrite)> {
        let mut writes = Vec::new();
        let interval = self.interval;
        for key in self.out_of_step(external_in_zk, customized_in_zk) {
            let path = self.path(&key);
            let Some((tracked, in_zk)) = Self::entry(
                &mut self.external,
                &mut self.customized,
                &key,
                external_in_zk,
                customized_in_zk,
            ) else {
                continue;
            };
            let ready = tracked
                .last_write
                .is_none_or(|at| now.duration_since(at) >= interval);
            if !(flush || tracked.urgent || ready) {
                continue;
            }
            let mut orphans = std::mem::take(&mut tracked.orphans);
            if let (Some(top), Some(before), Some(after)) = (
                tracked.top.as_deref(),
                tracked.visible(in_zk),
                tracked.computed.as_ref(),
            ) {
                update_orphans(&mut orphans, before, after, top);
            }
            tracked.orphans = orphans;
            let write = match &tracked.computed {
                Some(record) => ViewWrite::Put(path, Box::new(record.clone())),
                None => ViewWrite::Delete(path),
            };
            writes.push((key, write));
        }
        for state_type in &self.removed_types {
            if customized_types_in_zk.contains(state_type) {
                let key = ViewKey::CustomizedType(state_type.clone());
                let path = self.path(&key);
                writes.push((key, ViewWrite::Delete(path)));
            }
        }
        writes
    }

    /// Records a successful write (`version` of the znode written).
    pub(crate) fn written(&mut self, key: &ViewKey, version: Option<i32>, now: Instant) {
        let tracked = match key {
            ViewKey::External(resource) => self.external.get_mut(resource),
            ViewKey::Customized(state_type, resource) => self
                .customized
                .get_mut(&(state_type.clone(), resource.clone())),
            ViewKey::CustomizedType(state_type) => {
                self.removed_types.remove(state_type);
                return;
            }
        };
        let Some(tracked) = tracked else {
            return;
        };
        tracked.written = Some(Written {
            record: tracked.computed.clone(),
            version: version.unwrap_or(-1),
        });
        tracked.last_write = Some(now);
        tracked.urgent = false;
        self.changed.remove(key);
        if tracked.computed.is_none() {
            if let ViewKey::External(resource) = key {
                self.external.remove(resource);
            } else if let ViewKey::Customized(state_type, resource) = key {
                self.customized
                    .remove(&(state_type.clone(), resource.clone()));
            }
        }
    }

    /// Forgets every write in flight: after a failed run the cache is the
    /// only reference.
    pub(crate) fn forget_writes(&mut self) {
        self.changed
            .extend(self.external.keys().map(|r| ViewKey::External(r.clone())));
        self.changed.extend(
            self.customized
                .keys()
                .map(|(t, r)| ViewKey::Customized(t.clone(), r.clone())),
        );
        for tracked in self
            .external
            .values_mut()
            .chain(self.customized.values_mut())
        {
            tracked.written = None;
        }
    }
}

/// The instances holding the top state in a partition's map.
fn top_holders<'a>(states: Option<&'a FieldMap>, top: &str) -> BTreeSet<&'a str> {
    states
        .into_iter()
        .flatten()
        .filter(|(_, state)| *state == top)
        .map(|(instance, _)| instance.as_str())
        .collect()
}

/// After a write from `before` to `after`: partitions that lost their top
/// state become orphans; partitions that have one are not.
fn update_orphans(orphans: &mut BTreeSet<String>, before: &ZNRecord, after: &ZNRecord, top: &str) {
    for (partition, states) in &before.map_fields {
        let had = !top_holders(Some(states), top).is_empty();
        let has = !top_holders(after.map(partition), top).is_empty();
        if had && !has {
            orphans.insert(partition.clone());
        }
    }
    orphans.retain(|partition| top_holders(after.map(partition), top).is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(partitions: &[(&str, &[(&str, &str)])]) -> ZNRecord {
        let mut record = ZNRecord::new("db");
        for (partition, states) in partitions {
            let map: FieldMap = states
                .iter()
                .map(|(i, s)| ((*i).to_owned(), (*s).to_owned()))
                .collect();
            record.set_map_field(*partition, map);
        }
        record
    }

    #[test]
    fn orphans_are_partitions_whose_top_state_a_write_removed() {
        let mut orphans = BTreeSet::new();
        let before = view(&[
            ("p0", &[("a", "MASTER"), ("b", "SLAVE")]),
            ("p1", &[("a", "SLAVE")]),
        ]);
        let after = view(&[
            ("p0", &[("a", "SLAVE"), ("b", "SLAVE")]),
            ("p1", &[("a", "MASTER")]),
        ]);
        update_orphans(&mut orphans, &before, &after, "MASTER");
        assert_eq!(orphans, BTreeSet::from(["p0".to_owned()]));
        let healed = view(&[("p0", &[("b", "MASTER")]), ("p1", &[("a", "MASTER")])]);
        update_orphans(&mut orphans, &after, &healed, "MASTER");
        assert!(orphans.is_empty());
    }

    #[test]
    fn own_writes_count_until_the_cache_catches_up() {
        let mut tracked = Tracked {
            written: Some(Written {
                record: Some(view(&[("p0", &[("a", "MASTER")])])),
                version: 3,
            }),
            ..Tracked::default()
        };
        let stale = InZk {
            record: std::sync::Arc::new(view(&[])),
            version: 2,
        };
        tracked.settle(Some(&stale));
        assert_eq!(
            tracked.visible(Some(&stale)).map(|r| r.map_fields.len()),
            Some(1)
        );
        let fresh = InZk {
            record: std::sync::Arc::new(view(&[])),
            version: 3,
        };
        tracked.settle(Some(&fresh));
        assert_eq!(
            tracked.visible(Some(&fresh)).map(|r| r.map_fields.len()),
            Some(0)
        );
        assert!(tracked.written.is_none());
    }
}
