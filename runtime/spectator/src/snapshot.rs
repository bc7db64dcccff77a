//! [`RoutingSnapshot`]: every routing table of a provider, with the live
//! instances and instance configs they were built against — one immutable,
//! consistent picture of the cluster (Helix's `RoutingTableSnapshot`).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use strand_model::{InstanceConfig, LiveInstance, ZNRecord};

use crate::error::{Result, SpectatorError};
use crate::source::ViewSource;
use crate::table::RoutingTable;

/// The records a snapshot is built from, by znode name.
#[derive(Debug, Default)]
pub struct SnapshotInputs {
    /// `EXTERNALVIEW/<R>` records by resource.
    pub external_views: Vec<(String, Arc<ZNRecord>)>,
    /// `CUSTOMIZEDVIEW/<T>/<R>` records by type, then resource.
    pub customized_views: BTreeMap<String, Vec<(String, Arc<ZNRecord>)>>,
    /// `LIVEINSTANCES/<I>` records.
    pub live_instances: Vec<(String, Arc<ZNRecord>)>,
    /// `CONFIGS/PARTICIPANT/<I>` records.
    pub instance_configs: Vec<(String, Arc<ZNRecord>)>,
}

/// One consistent routing picture of a cluster. Cheap to share (`Arc`).
#[derive(Debug, Clone, Default)]
pub struct RoutingSnapshot {
    generation: u64,
    tables: BTreeMap<ViewSource, RoutingTable>,
    live_instances: BTreeMap<String, LiveInstance>,
    instance_configs: BTreeMap<String, InstanceConfig>,
}

impl RoutingSnapshot {
    /// Builds the tables of `sources` from `inputs`. `generation` numbers
    /// the snapshot (it grows with every rebuild).
    pub fn build(generation: u64, sources: &[ViewSource], inputs: &SnapshotInputs) -> Self {
        Self::rebuild(None, generation, sources, inputs)
    }

    /// As [`RoutingSnapshot::build`], reusing the index of every resource
    /// whose view record is unchanged since `previous` — when the live
    /// instances and instance configs are the same (otherwise every
    /// resource is indexed again).
    pub fn rebuild(
        previous: Option<&RoutingSnapshot>,
        generation: u64,
        sources: &[ViewSource],
        inputs: &SnapshotInputs,
    ) -> Self {
        let live_instances: BTreeMap<String, LiveInstance> = inputs
            .live_instances
            .iter()
            .map(|(name, record)| (name.clone(), LiveInstance::from(Arc::clone(record))))
            .collect();
        let instance_configs: BTreeMap<String, InstanceConfig> = inputs
            .instance_configs
            .iter()
            .map(|(name, record)| (name.clone(), InstanceConfig::from(Arc::clone(record))))
            .collect();
        let previous = previous.filter(|p| {
            p.live_instances.keys().eq(live_instances.keys())
                && p.instance_configs.keys().eq(instance_configs.keys())
        });
        let routable = |i: &str| live_instances.contains_key(i) && instance_configs.contains_key(i);
        let tables = sources
            .iter()
            .map(|source| {
                let views = match source {
                    ViewSource::ExternalView => Some(&inputs.external_views),
                    ViewSource::Customized(t) => inputs.customized_views.get(t),
                };
                let before = previous.and_then(|p| p.tables.get(source));
                let table = views
                    .map(|views| RoutingTable::rebuild(views, routable, before))
                    .unwrap_or_default();
                (source.clone(), table)
            })
            .collect();
        Self {
            generation,
            tables,
            live_instances,
            instance_configs,
        }
    }

    /// The snapshot's number; a later snapshot has a larger one.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The sources this snapshot has tables for.
    pub fn sources(&self) -> impl Iterator<Item = &ViewSource> {
        self.tables.keys()
    }

    /// The table of a source.
    ///
    /// # Errors
    /// [`SpectatorError::UnknownSource`] when the provider does not watch it.
    pub fn table(&self, source: &ViewSource) -> Result<&RoutingTable> {
        self.tables
            .get(source)
            .ok_or_else(|| SpectatorError::UnknownSource(source.to_string()))
    }

    /// The external-view table (always present).
    pub fn external_view(&self) -> &RoutingTable {
        static EMPTY: LazyLock<RoutingTable> = LazyLock::new(RoutingTable::default);
        self.tables.get(&ViewSource::ExternalView).unwrap_or(&EMPTY)
    }

    /// The table of a customized-state type.
    ///
    /// # Errors
    /// [`SpectatorError::UnknownSource`] when the provider does not watch it.
    pub fn customized_view(&self, state_type: &str) -> Result<&RoutingTable> {
        self.table(&ViewSource::Customized(state_type.to_owned()))
    }

    /// External view: instances holding `partition` of `resource` in
    /// `state`, sorted by id.
    pub fn instances(&self, resource: &str, partition: &str, state: &str) -> &[String] {
        self.external_view().instances(resource, partition, state)
    }

    /// External view: instances holding any partition of `resource` in
    /// `state`, sorted by id.
    pub fn instances_in_state(&self, resource: &str, state: &str) -> &[String] {
        self.external_view().instances_in_state(resource, state)
    }

    /// External view: resources with at least one route, sorted.
    pub fn resources(&self) -> &[String] {
        self.external_view().resources()
    }

    /// The live instances by id.
    pub fn live_instances(&self) -> &BTreeMap<String, LiveInstance> {
        &self.live_instances
    }

    /// True when `instance` has a LiveInstance.
    pub fn is_live(&self, instance: &str) -> bool {
        self.live_instances.contains_key(instance)
    }

    /// Every instance config by id.
    pub fn instance_configs(&self) -> &BTreeMap<String, InstanceConfig> {
        &self.instance_configs
    }

    /// One instance's config.
    pub fn instance_config(&self, instance: &str) -> Option<&InstanceConfig> {
        self.instance_configs.get(instance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, partitions: &[(&str, &[(&str, &str)])]) -> Arc<ZNRecord> {
        let mut r = ZNRecord::new(id);
        for (p, states) in partitions {
            for (i, s) in *states {
                r.map_mut(*p).insert((*i).to_owned(), (*s).to_owned());
            }
        }
        Arc::new(r)
    }

    fn inputs() -> SnapshotInputs {
        let mut cv = BTreeMap::new();
        cv.insert(
            "DEPLOY".to_owned(),
            vec![(
                "DB".to_owned(),
                record("DB", &[("DB_0", &[("a", "DEPLOYED"), ("b", "DEPLOYING")])]),
            )],
        );
        SnapshotInputs {
            external_views: vec![(
                "DB".to_owned(),
                record(
                    "DB",
                    &[("DB_0", &[("a", "MASTER"), ("b", "SLAVE"), ("c", "SLAVE")])],
                ),
            )],
            customized_views: cv,
            // c has a config but is not live; d is live without a config.
            live_instances: ["a", "b", "d"]
                .iter()
                .map(|i| ((*i).to_owned(), Arc::new(ZNRecord::new(*i))))
                .collect(),
            instance_configs: ["a", "b", "c"]
                .iter()
                .map(|i| ((*i).to_owned(), Arc::new(ZNRecord::new(*i))))
                .collect(),
        }
    }

    #[test]
    fn routes_only_live_configured_instances() {
        let sources = [ViewSource::ExternalView];
        let snap = RoutingSnapshot::build(7, &sources, &inputs());
        assert_eq!(snap.generation(), 7);
        assert_eq!(snap.instances("DB", "DB_0", "SLAVE"), ["b"]);
        assert_eq!(snap.instances("DB", "DB_0", "MASTER"), ["a"]);
        assert!(snap.is_live("d"));
        assert!(snap.instance_config("d").is_none());
    }

    #[test]
    fn rebuild_after_a_liveness_change_reindexes_unchanged_views() {
        let sources = [ViewSource::ExternalView];
        let mut inputs = inputs();
        let first = RoutingSnapshot::build(1, &sources, &inputs);
        assert_eq!(first.instances("DB", "DB_0", "SLAVE"), ["b"]);
        // b's session ends; the view record (same Arc) still names it.
        inputs.live_instances.retain(|(name, _)| name != "b");
        let second = RoutingSnapshot::rebuild(Some(&first), 2, &sources, &inputs);
        assert!(second.instances("DB", "DB_0", "SLAVE").is_empty());
        assert_eq!(second.instances("DB", "DB_0", "MASTER"), ["a"]);
    }

    #[test]
    fn customized_tables_exist_only_for_configured_types() {
        let sources = [
            ViewSource::ExternalView,
            ViewSource::Customized("DEPLOY".into()),
            ViewSource::Customized("ABSENT".into()),
        ];
        let snap = RoutingSnapshot::build(1, &sources, &inputs());
        let deploy = snap.customized_view("DEPLOY").expect("DEPLOY table");
        assert_eq!(deploy.instances("DB", "DB_0", "DEPLOYED"), ["a"]);
        assert!(
            snap.customized_view("ABSENT")
                .expect("ABSENT table")
                .is_empty()
        );
        assert!(matches!(
            snap.customized_view("OTHER"),
            Err(SpectatorError::UnknownSource(_))
        ));
    }
}
