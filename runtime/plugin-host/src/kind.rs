//! The two kinds of plugin behind one generic loader: how each is
//! type-checked, instantiated, asked to describe itself and canaried.

use std::fmt::Debug;

use strand_model::Count;
use strand_model::plugin::{AggregatorInfo, Changes, StateDef, StateModelSpec, Transition};
use wasmtime::Store;
use wasmtime::component::{Component, InstancePre};

use crate::bindings::aggregator::strand::aggregator::types as agg_types;
use crate::bindings::replicated::exports::strand::routing::watch;
use crate::bindings::state_model::strand::statemodel::types as sm_types;
use crate::bindings::{aggregator as agg, state_model as sm};
use crate::engine::PluginHost;
use crate::state::HostState;
use crate::world::World;

/// A kind of plugin: one world, its typed bindings and its self-description.
pub(crate) trait Kind: Send + Sync + Sized + 'static {
    /// The world this kind is built for.
    const WORLD: World;
    /// The typed pre-instantiated component.
    type Pre: Send + Sync + 'static;
    /// The typed instance.
    type Bindings: Send + 'static;
    /// What the plugin says about itself.
    type Descriptor: Clone + Debug + Send + Sync + 'static;

    /// Type-checks the component against the world.
    fn pre(host: &PluginHost, component: &Component) -> wasmtime::Result<Self::Pre>;
    /// Instantiates it in `store`.
    fn instantiate(
        pre: &Self::Pre,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Self::Bindings>;
    /// Calls `definition` / `info`.
    fn describe(
        b: &Self::Bindings,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Self::Descriptor>;
    /// Checks the description is usable.
    fn validate(d: &Self::Descriptor) -> Result<(), String>;
    /// What changed between two descriptions.
    fn changes(new: &Self::Descriptor, old: &Self::Descriptor) -> Changes;
    /// The plugin's own version string.
    fn version(d: &Self::Descriptor) -> &str;
    /// A sample call; `Err` only for faults (an `err` result is fine).
    fn canary(
        b: &Self::Bindings,
        store: &mut Store<HostState>,
        d: &Self::Descriptor,
    ) -> wasmtime::Result<()>;
}

/// State-model plugins.
pub(crate) struct StateModelKind;

/// The unversioned name of the optional export of world
/// `replicated-state-model`.
const WATCH_INTERFACE: &str = "strand:routing/watch";
/// The unversioned name of the routing lookup import.
const LOOKUP_INTERFACE: &str = "strand:routing/lookup";

/// Whether `name` (`ns:pkg/iface@version`) names `interface` at any version.
fn names_interface(name: &str, interface: &str) -> bool {
    name.split_once('@')
        .is_some_and(|(unversioned, _)| unversioned == interface)
}

/// A type-checked state-model component: the world's export indices, and
/// those of `strand:routing/watch` when the component exports it.
pub(crate) struct StateModelPre {
    instance_pre: InstancePre<HostState>,
    model: sm::StateModelIndices,
    watch: Option<watch::GuestIndices>,
    imports_lookup: bool,
}

impl StateModelPre {
    /// Whether the component exports `strand:routing/watch`.
    pub(crate) fn watches_routing(&self) -> bool {
        self.watch.is_some()
    }

    /// Whether the component imports `strand:routing/lookup` or exports
    /// `strand:routing/watch`: its calls need the routing table.
    pub(crate) fn uses_routing(&self) -> bool {
        self.imports_lookup || self.watch.is_some()
    }
}

/// One instance of a state-model component.
pub(crate) struct StateModelInstance {
    /// `strand:statemodel/model`.
    pub(crate) model: sm::StateModel,
    /// `strand:routing/watch`, when exported.
    pub(crate) watch: Option<watch::Guest>,
}

impl Kind for StateModelKind {
    const WORLD: World = World::StateModel;
    type Pre = StateModelPre;
    type Bindings = StateModelInstance;
    type Descriptor = StateModelSpec;

    /// Type-checks the world, and `strand:routing/watch` if the component
    /// exports it at any version: a watch export that does not type-check
    /// (or is of an unsupported version) refuses the component.
    fn pre(host: &PluginHost, component: &Component) -> wasmtime::Result<Self::Pre> {
        let instance_pre = host.linker(World::StateModel).instantiate_pre(component)?;
        let model = sm::StateModelIndices::new(&instance_pre)?;
        let component_type = component.component_type();
        let exports_watch = component_type
            .exports(host.engine())
            .any(|(name, _)| names_interface(name, WATCH_INTERFACE));
        let imports_lookup = component_type
            .imports(host.engine())
            .any(|(name, _)| names_interface(name, LOOKUP_INTERFACE));
        let watch = if exports_watch {
            Some(watch::GuestIndices::new(&instance_pre)?)
        } else {
            None
        };
        Ok(StateModelPre {
            instance_pre,
            model,
            watch,
            imports_lookup,
        })
    }

    fn instantiate(
        pre: &Self::Pre,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Self::Bindings> {
        let instance = pre.instance_pre.instantiate(&mut *store)?;
        let model = pre.model.load(&mut *store, &instance)?;
        let watch = match &pre.watch {
            Some(indices) => Some(indices.load(&mut *store, &instance)?),
            None => None,
        };
        Ok(StateModelInstance { model, watch })
    }

    fn describe(
        b: &Self::Bindings,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Self::Descriptor> {
        let d = b.model.strand_statemodel_model().call_definition(store)?;
        Ok(StateModelSpec {
            name: d.name,
            version: d.version,
            states: d
                .states
                .into_iter()
                .map(|s| StateDef {
                    name: s.name,
                    count: match s.count {
                        sm_types::CountBound::Number(n) => Count::Fixed(n),
                        sm_types::CountBound::Replicas => Count::Replicas,
                        sm_types::CountBound::LiveInstances => Count::Nodes,
                        sm_types::CountBound::Unbounded => Count::Unbounded,
                    },
                })
                .collect(),
            transitions: d
                .transitions
                .into_iter()
                .map(|t| Transition {
                    from: t.from_state,
                    to: t.to_state,
                })
                .collect(),
            initial_state: d.initial_state,
        })
    }

    fn validate(d: &Self::Descriptor) -> Result<(), String> {
        d.validate()
    }

    fn changes(new: &Self::Descriptor, old: &Self::Descriptor) -> Changes {
        new.changes_from(old)
    }

    fn version(d: &Self::Descriptor) -> &str {
        &d.version
    }

    /// Runs the first transition out of the initial state for a made-up
    /// partition of the `__canary__` cluster.
    fn canary(
        b: &Self::Bindings,
        store: &mut Store<HostState>,
        d: &Self::Descriptor,
    ) -> wasmtime::Result<()> {
        let to = d
            .transitions
            .iter()
            .find(|t| t.from == d.initial_state)
            .map_or_else(|| d.initial_state.clone(), |t| t.to.clone());
        let ctx = canary_context(&d.initial_state, &to);
        b.model
            .strand_statemodel_model()
            .call_transition(store, &ctx)
            .map(drop)
    }
}

/// The context of a sandboxed transition: a made-up partition of the
/// `__canary__` cluster, no resource config.
pub(crate) fn canary_context(from: &str, to: &str) -> sm_types::TransitionContext {
    sm_types::TransitionContext {
        cluster: "__canary__".into(),
        instance: "__canary__".into(),
        resource: "__canary__".into(),
        partition: "__canary___0".into(),
        from_state: from.into(),
        to_state: to.into(),
        message_id: "__canary__".into(),
        config: Vec::new(),
    }
}

/// Customized-view aggregators.
pub(crate) struct AggregatorKind;

impl Kind for AggregatorKind {
    const WORLD: World = World::Aggregator;
    type Pre = agg::AggregatorPre<HostState>;
    type Bindings = agg::Aggregator;
    type Descriptor = AggregatorInfo;

    fn pre(host: &PluginHost, component: &Component) -> wasmtime::Result<Self::Pre> {
        agg::AggregatorPre::new(host.linker(World::Aggregator).instantiate_pre(component)?)
    }

    fn instantiate(
        pre: &Self::Pre,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Self::Bindings> {
        pre.instantiate(store)
    }

    fn describe(
        b: &Self::Bindings,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Self::Descriptor> {
        let i = b.strand_aggregator_aggregate().call_info(store)?;
        Ok(AggregatorInfo {
            name: i.name,
            version: i.version,
            description: i.description,
        })
    }

    fn validate(d: &Self::Descriptor) -> Result<(), String> {
        if d.name.is_empty() {
            Err("the aggregator has no name".into())
        } else {
            Ok(())
        }
    }

    fn changes(new: &Self::Descriptor, old: &Self::Descriptor) -> Changes {
        new.changes_from(old)
    }

    fn version(d: &Self::Descriptor) -> &str {
        &d.version
    }

    /// Aggregates a made-up partition with two instances.
    fn canary(
        b: &Self::Bindings,
        store: &mut Store<HostState>,
        _d: &Self::Descriptor,
    ) -> wasmtime::Result<()> {
        let state = |instance: &str, s: &str| agg_types::InstanceState {
            instance: instance.into(),
            fields: vec![
                ("CURRENT_STATE".into(), s.into()),
                ("START_TIME".into(), "0".into()),
            ],
        };
        let input = agg_types::PartitionStates {
            cluster: "__canary__".into(),
            state_type: "__canary__".into(),
            resource: "__canary__".into(),
            partition: "__canary___0".into(),
            states: vec![state("a", "READY"), state("b", "BOOTSTRAPPING")],
        };
        b.strand_aggregator_aggregate()
            .call_aggregate(store, &input)
            .map(drop)
    }
}
