//! [`Dirty`]: what the next pipeline run must look at — the marks cache
//! changes leave (see `model`), so a run costs what changed: one
//! partition's current state marks that partition of its resource; an ideal
//! state marks the partitions whose lists or maps changed (or the whole
//! resource when its settings did); live instances, instance configs,
//! state models and the cluster config mark everything.

use std::collections::{BTreeMap, BTreeSet};

/// Some partitions of a resource, or all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parts {
    /// Every partition.
    All,
    /// These partitions.
    Some(BTreeSet<String>),
}

impl Default for Parts {
    fn default() -> Self {
        Parts::Some(BTreeSet::new())
    }
}

impl Parts {
    fn add(&mut self, partition: &str) {
        if let Parts::Some(set) = self
            && !set.contains(partition)
        {
            set.insert(partition.to_owned());
        }
    }

    fn add_all(&mut self) {
        *self = Parts::All;
    }
}

/// One resource's marks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ResourceMarks {
    /// Its preference lists must be recomputed (FULL_AUTO placement, or a
    /// SEMI_AUTO list edit).
    pub placement: bool,
    /// The partitions whose decisions must be recomputed.
    pub parts: Parts,
}

/// What the next run must recompute.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dirty {
    /// Everything: every resource, partition and view, placements too.
    pub everything: bool,
    /// Marked resources.
    pub resources: BTreeMap<String, ResourceMarks>,
    /// Every customized view of every type.
    pub all_customized: bool,
    /// Marked customized views: (type, resource) → partitions.
    pub customized: BTreeMap<(String, String), Parts>,
    /// External views whose copy in ZooKeeper changed: compare again.
    pub external_views: BTreeSet<String>,
    /// Customized views whose copy in ZooKeeper changed: compare again.
    pub customized_views: BTreeSet<(String, String)>,
    /// LEADER changed: check the fence.
    pub leader: bool,
    /// A message for an old session of a live instance is to be deleted.
    pub stale: bool,
    /// The Helix event name of the first change that called for the run.
    pub event: Option<&'static str>,
}

impl Dirty {
    /// Nothing is marked.
    pub(crate) fn is_empty(&self) -> bool {
        !self.everything
            && self.resources.is_empty()
            && !self.all_customized
            && self.customized.is_empty()
            && self.external_views.is_empty()
            && self.customized_views.is_empty()
            && !self.stale
    }

    /// Records the event name of a change (the first one wins).
    pub(crate) fn because(&mut self, event: Option<&'static str>) {
        self.event = self.event.or(event);
    }

    /// Marks everything.
    pub(crate) fn everything(&mut self) {
        self.everything = true;
        self.all_customized = true;
    }

    /// Marks one partition of `resource`.
    pub(crate) fn partition(&mut self, resource: &str, partition: &str) {
        self.marks(resource).parts.add(partition);
    }

    /// Marks every partition of `resource`; with `placement`, its lists too.
    pub(crate) fn resource(&mut self, resource: &str, placement: bool) {
        let marks = self.marks(resource);
        marks.parts.add_all();
        marks.placement |= placement;
    }

    /// Marks the preference lists of `resource`: the decider recomputes
    /// them and decides every partition whose list came out different
    /// (besides the partitions marked otherwise), so one edited list costs
    /// one partition's decision.
    pub(crate) fn placement(&mut self, resource: &str) {
        self.marks(resource).placement = true;
    }

    /// Marks one partition of one customized view.
    pub(crate) fn customized_partition(
        &mut self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) {
        self.customized_marks(state_type, resource).add(partition);
    }

    fn marks(&mut self, resource: &str) -> &mut ResourceMarks {
        self.resources.entry(resource.to_owned()).or_default()
    }

    fn customized_marks(&mut self, state_type: &str, resource: &str) -> &mut Parts {
        self.customized
            .entry((state_type.to_owned(), resource.to_owned()))
            .or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_accumulate_and_all_wins() {
        let mut dirty = Dirty::default();
        assert!(dirty.is_empty());
        dirty.partition("db", "db_1");
        dirty.partition("db", "db_2");
        dirty.partition("db", "db_1");
        assert_eq!(
            dirty.resources["db"].parts,
            Parts::Some(["db_1".to_owned(), "db_2".to_owned()].into())
        );
        dirty.resource("db", false);
        dirty.partition("db", "db_3");
        assert_eq!(dirty.resources["db"].parts, Parts::All);
        assert!(!dirty.resources["db"].placement);
        dirty.placement("db");
        assert!(dirty.resources["db"].placement);
        let mut lists = Dirty::default();
        lists.placement("db");
        assert_eq!(
            lists.resources["db"].parts,
            Parts::default(),
            "the decider adds the partitions whose lists changed"
        );
        dirty.because(Some("A"));
        dirty.because(Some("B"));
        assert_eq!(dirty.event, Some("A"));
    }
}
