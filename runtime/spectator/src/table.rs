//! [`RoutingTable`]: the index of one view source — resource → partition →
//! state → instances — built once per change and looked up without
//! allocating (Helix's `RoutingTable`).

use std::collections::BTreeMap;
use std::sync::Arc;

use strand_model::{FieldMap, ZNRecord};

/// Lookups hash short strings; foldhash is several times faster than the
/// default SipHash for them (the keys come from the cluster's own views).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Instances by state, each list sorted by instance id.
type ByState = HashMap<String, Vec<String>>;

/// The routes of one partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PartitionRoutes {
    /// instance → state, sorted by instance.
    states: BTreeMap<String, String>,
    by_state: ByState,
}

/// The routes of one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ResourceRoutes {
    partitions: HashMap<String, PartitionRoutes>,
    /// Partition names, sorted.
    partition_names: Vec<String>,
    /// Instances holding any partition in a state, sorted, deduplicated.
    by_state: ByState,
    /// The view record this was built from, to reuse it while unchanged.
    built_from: Option<Arc<ZNRecord>>,
}

/// One source's routing table: which routable instance holds which
/// partition in which state. Immutable once built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutingTable {
    resources: HashMap<String, Arc<ResourceRoutes>>,
    /// Resource names with at least one route, sorted.
    resource_names: Vec<String>,
}

impl RoutingTable {
    /// Builds a table from views: for each resource its
    /// `{partition: {instance: state}}` map fields. Entries whose instance
    /// is not `routable` are left out; so are resources left with no entry.
    pub fn build<'a, V, P>(views: V, routable: impl Fn(&str) -> bool) -> Self
    where
        V: IntoIterator<Item = (&'a str, P)>,
        P: IntoIterator<Item = (&'a String, &'a FieldMap)>,
    {
        let mut resources = HashMap::default();
        for (resource, partitions) in views {
            if let Some(routes) = build_resource(partitions, &routable, None) {
                resources.insert(resource.to_owned(), Arc::new(routes));
            }
        }
        Self::from_resources(resources)
    }

    /// Builds a table from view records, reusing `previous`'s index of
    /// every resource whose record is the very same (`Arc`) as the one it
    /// was built from. Only valid when the routable instances are the
    /// same as when `previous` was built.
    pub fn rebuild(
        views: &[(String, Arc<ZNRecord>)],
        routable: impl Fn(&str) -> bool,
        previous: Option<&RoutingTable>,
    ) -> Self {
        let mut resources = HashMap::default();
        for (resource, record) in views {
            let reused = previous
                .and_then(|t| t.resources.get(resource))
                .filter(|r| {
                    r.built_from
                        .as_ref()
                        .is_some_and(|f| Arc::ptr_eq(f, record))
                });
            let routes = match reused {
                Some(routes) => Some(Arc::clone(routes)),
                None => {
                    build_resource(record.map_fields.iter(), &routable, Some(record)).map(Arc::new)
                }
            };
            if let Some(routes) = routes {
                resources.insert(resource.clone(), routes);
            }
        }
        Self::from_resources(resources)
    }

    fn from_resources(resources: HashMap<String, Arc<ResourceRoutes>>) -> Self {
        let mut resource_names: Vec<String> = resources.keys().cloned().collect();
        resource_names.sort();
        Self {
            resources,
            resource_names,
        }
    }

    /// The instances holding `partition` of `resource` in `state`, sorted
    /// (Helix's `getInstances(resource, partition, state)`). Empty when
    /// there are none.
    pub fn instances(&self, resource: &str, partition: &str, state: &str) -> &[String] {
        self.resources
            .get(resource)
            .and_then(|r| r.partitions.get(partition))
            .and_then(|p| p.by_state.get(state))
            .map_or(&[], Vec::as_slice)
    }

    /// The instances holding any partition of `resource` in `state`, sorted
    /// and without duplicates (Helix's `getInstances(resource, state)`).
    pub fn instances_in_state(&self, resource: &str, state: &str) -> &[String] {
        self.resources
            .get(resource)
            .and_then(|r| r.by_state.get(state))
            .map_or(&[], Vec::as_slice)
    }

    /// The resources with at least one route, sorted (Helix's `getResources`).
    pub fn resources(&self) -> &[String] {
        &self.resource_names
    }

    /// A resource's partitions with at least one route, sorted.
    pub fn partitions(&self, resource: &str) -> &[String] {
        self.resources
            .get(resource)
            .map_or(&[], |r| r.partition_names.as_slice())
    }

    /// `{instance: state}` of a partition, sorted by instance.
    pub fn state_map(&self, resource: &str, partition: &str) -> Option<&BTreeMap<String, String>> {
        self.resources
            .get(resource)
            .and_then(|r| r.partitions.get(partition))
            .map(|p| &p.states)
    }

    /// The instances appearing anywhere in a resource, sorted.
    pub fn resource_instances(&self, resource: &str) -> Vec<&str> {
        let Some(routes) = self.resources.get(resource) else {
            return Vec::new();
        };
        let mut all: Vec<&str> = routes
            .by_state
            .values()
            .flatten()
            .map(String::as_str)
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// True when no resource has a route.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

/// One resource's routes; `None` when no entry is routable.
fn build_resource<'a, P>(
    partitions: P,
    routable: &impl Fn(&str) -> bool,
    built_from: Option<&Arc<ZNRecord>>,
) -> Option<ResourceRoutes>
where
    P: IntoIterator<Item = (&'a String, &'a FieldMap)>,
{
    let mut routes = ResourceRoutes {
        built_from: built_from.cloned(),
        ..ResourceRoutes::default()
    };
    for (partition, states) in partitions {
        let mut part = PartitionRoutes::default();
        for (instance, state) in states.iter().filter(|(i, _)| routable(i)) {
            part.states.insert(instance.clone(), state.clone());
        }
        if part.states.is_empty() {
            continue;
        }
        // `states` is sorted by instance, so every list comes out sorted.
        for (instance, state) in &part.states {
            part.by_state
                .entry(state.clone())
                .or_default()
                .push(instance.clone());
            routes
                .by_state
                .entry(state.clone())
                .or_default()
                .push(instance.clone());
        }
        routes.partition_names.push(partition.clone());
        routes.partitions.insert(partition.clone(), part);
    }
    if routes.partitions.is_empty() {
        return None;
    }
    routes.partition_names.sort();
    for list in routes.by_state.values_mut() {
        list.sort();
        list.dedup();
    }
    Some(routes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, &str)]) -> FieldMap {
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn views() -> Vec<(String, Vec<(String, FieldMap)>)> {
        vec![
            (
                "DB".to_owned(),
                vec![
                    (
                        "DB_0".to_owned(),
                        map(&[("c", "SLAVE"), ("a", "MASTER"), ("b", "SLAVE")]),
                    ),
                    (
                        "DB_1".to_owned(),
                        map(&[("b", "MASTER"), ("a", "SLAVE"), ("gone", "SLAVE")]),
                    ),
                ],
            ),
            (
                "ONLY_GONE".to_owned(),
                vec![("ONLY_GONE_0".to_owned(), map(&[("gone", "ONLINE")]))],
            ),
        ]
    }

    fn table() -> RoutingTable {
        let views = views();
        RoutingTable::build(
            views
                .iter()
                .map(|(r, parts)| (r.as_str(), parts.iter().map(|(p, m)| (p, m)))),
            |i| i != "gone",
        )
    }

    #[test]
    fn lookups_by_partition_and_state_are_sorted() {
        let t = table();
        assert_eq!(t.instances("DB", "DB_0", "SLAVE"), ["b", "c"]);
        assert_eq!(t.instances("DB", "DB_0", "MASTER"), ["a"]);
        assert_eq!(t.instances_in_state("DB", "MASTER"), ["a", "b"]);
        assert_eq!(t.instances_in_state("DB", "SLAVE"), ["a", "b", "c"]);
        assert_eq!(t.partitions("DB"), ["DB_0", "DB_1"]);
        assert_eq!(t.resource_instances("DB"), ["a", "b", "c"]);
    }

    #[test]
    fn unroutable_instances_and_emptied_resources_are_left_out() {
        let t = table();
        assert_eq!(t.instances("DB", "DB_1", "SLAVE"), ["a"]);
        assert_eq!(t.resources(), ["DB"]);
        assert!(t.instances("ONLY_GONE", "ONLY_GONE_0", "ONLINE").is_empty());
    }

    #[test]
    fn rebuild_reuses_unchanged_records_and_rebuilds_changed_ones() {
        let record = |master: &str| {
            let mut r = ZNRecord::new("DB");
            r.map_mut("DB_0")
                .insert(master.to_owned(), "MASTER".to_owned());
            Arc::new(r)
        };
        let (one, two) = (record("a"), record("b"));
        let first = RoutingTable::rebuild(
            &[
                ("DB".into(), Arc::clone(&one)),
                ("OTHER".into(), Arc::clone(&two)),
            ],
            |_| true,
            None,
        );
        let changed = record("c");
        let second = RoutingTable::rebuild(
            &[
                ("DB".into(), Arc::clone(&changed)),
                ("OTHER".into(), Arc::clone(&two)),
            ],
            |_| true,
            Some(&first),
        );
        assert_eq!(second.instances("DB", "DB_0", "MASTER"), ["c"]);
        assert_eq!(second.instances("OTHER", "DB_0", "MASTER"), ["b"]);
        assert!(Arc::ptr_eq(
            &first.resources["OTHER"],
            &second.resources["OTHER"]
        ));
        assert!(!Arc::ptr_eq(
            &first.resources["DB"],
            &second.resources["DB"]
        ));
    }

    #[test]
    fn missing_data_gives_empty_answers() {
        let t = table();
        assert!(t.instances("NOPE", "NOPE_0", "MASTER").is_empty());
        assert!(t.instances("DB", "DB_9", "MASTER").is_empty());
        assert!(t.instances("DB", "DB_0", "OFFLINE").is_empty());
        assert!(t.state_map("DB", "DB_9").is_none());
        assert!(RoutingTable::default().is_empty());
    }
}
