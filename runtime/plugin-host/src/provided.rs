//! What the host's linkers provide to each world, by interface and semver
//! track, so that a component importing anything else is refused with that
//! import named ([`LoadError::UnprovidedImport`]) instead of wasmtime's
//! linker message.
//!
//! wasmtime stays the judge of whether a component links: this table only
//! says *why* it did not, when [`first_unprovided`] finds an import outside
//! it (otherwise the failure is a [`LoadError::TypeCheck`]: the interface
//! is provided, but not with the functions or types the component wants).
//! Keep it in step with the linkers built in `engine.rs`; the tests check
//! that every import of the real plugins is in it.
//!
//! [`LoadError::UnprovidedImport`]: crate::LoadError::UnprovidedImport
//! [`LoadError::TypeCheck`]: crate::LoadError::TypeCheck

use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use crate::world::World;

/// One provided package: all of its interfaces, or only those listed.
struct Provided {
    package: &'static str,
    interfaces: &'static [&'static str],
    /// The semver track served: `0.2` serves every `0.2.x`.
    track: &'static str,
}

const WASI: &[Provided] = &[
    Provided {
        package: "wasi:cli",
        interfaces: &[],
        track: "0.2",
    },
    Provided {
        package: "wasi:clocks",
        interfaces: &[],
        track: "0.2",
    },
    Provided {
        package: "wasi:filesystem",
        interfaces: &[],
        track: "0.2",
    },
    Provided {
        package: "wasi:io",
        interfaces: &[],
        track: "0.2",
    },
    Provided {
        package: "wasi:random",
        interfaces: &[],
        track: "0.2",
    },
    Provided {
        package: "wasi:sockets",
        interfaces: &[],
        track: "0.2",
    },
];

const HOST: Provided = Provided {
    package: "strand:host",
    interfaces: &["log", "clock"],
    track: "0.1",
};

const STATE_MODEL: &[Provided] = &[
    Provided {
        package: "wasi:http",
        interfaces: &["types", "outgoing-handler"],
        track: "0.2",
    },
    HOST,
    Provided {
        package: "strand:statemodel",
        interfaces: &["types", "customized-state"],
        track: "0.1",
    },
    Provided {
        package: "strand:routing",
        interfaces: &["lookup"],
        track: "0.1",
    },
];

const AGGREGATOR: &[Provided] = &[HOST];

fn table(world: World) -> impl Iterator<Item = &'static Provided> {
    let own = match world {
        World::StateModel => STATE_MODEL,
        World::Aggregator => AGGREGATOR,
    };
    WASI.iter().chain(own)
}

/// The semver track an import's version is served by (`0.2.9` → `0.2`,
/// `1.4.0` → `1`, `0.0.3` → itself), as wasmtime's linker matches them.
fn track(version: &str) -> Option<String> {
    let release = version.split('+').next().unwrap_or(version);
    if release.contains('-') {
        // A pre-release is compatible with nothing else.
        return Some(release.to_owned());
    }
    let mut parts = release.split('.').map(|p| p.parse::<u64>().ok());
    let (Some(Some(major)), Some(Some(minor)), Some(Some(_patch)), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some(match (major, minor) {
        (0, 0) => release.to_owned(),
        (0, minor) => format!("0.{minor}"),
        (major, _) => major.to_string(),
    })
}

/// Whether the host provides the interface `import` (a component's import
/// name, `namespace:package/interface@version`) to plugins of `world`.
pub fn provides(world: World, import: &str) -> bool {
    let (path, version) = import.split_once('@').unwrap_or((import, ""));
    let Some((package, interface)) = path.split_once('/') else {
        return false;
    };
    let wanted = track(version);
    table(world).any(|p| {
        p.package == package
            && (p.interfaces.is_empty() || p.interfaces.contains(&interface))
            && wanted.as_deref() == Some(p.track)
    })
}

/// What the host provides to plugins of `world`, for messages:
/// `wasi:cli@0.2.x, …, strand:host/{log,clock}@0.1.x`.
pub fn describe(world: World) -> String {
    table(world)
        .map(|p| match p.interfaces {
            [] => format!("{}@{}.x", p.package, p.track),
            [one] => format!("{}/{one}@{}.x", p.package, p.track),
            many => format!("{}/{{{}}}@{}.x", p.package, many.join(","), p.track),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first import of `component` that needs an implementation (it has
/// functions or resources, not only types) and that the host does not
/// provide to `world`.
pub(crate) fn first_unprovided(
    world: World,
    engine: &Engine,
    component: &Component,
) -> Option<String> {
    let ty = component.component_type();
    ty.imports(engine)
        .filter(|(_, item)| needs_implementation(engine, &item.ty))
        .map(|(name, _)| name)
        .find(|name| !provides(world, name))
        .map(str::to_owned)
}

/// Whether linking `item` needs something from the host (an instance of
/// types only links against nothing).
fn needs_implementation(engine: &Engine, item: &ComponentItem) -> bool {
    match item {
        ComponentItem::ComponentInstance(instance) => instance
            .exports(engine)
            .any(|(_, e)| needs_implementation(engine, &e.ty)),
        ComponentItem::Type(_) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_match_by_interface_and_semver_track() {
        let sm = World::StateModel;
        assert!(provides(sm, "wasi:io/streams@0.2.9"));
        assert!(provides(sm, "wasi:sockets/tcp@0.2.0"));
        assert!(provides(sm, "wasi:http/outgoing-handler@0.2.12"));
        assert!(provides(sm, "strand:host/log@0.1.0"));
        assert!(provides(sm, "strand:host/log@0.1.7"));
        assert!(provides(sm, "strand:routing/lookup@0.1.0"));
        assert!(!provides(sm, "strand:host/log@0.2.0"), "another track");
        assert!(!provides(sm, "wasi:io/streams@0.3.0"));
        assert!(!provides(sm, "wasi:http/incoming-handler@0.2.0"));
        assert!(!provides(sm, "acme:inventory/stock@0.1.0"));
        assert!(!provides(sm, "strand:host/log"), "no version");
        assert!(!provides(sm, "greet"), "not an interface");
        let agg = World::Aggregator;
        assert!(provides(agg, "strand:host/clock@0.1.0"));
        assert!(!provides(agg, "wasi:http/outgoing-handler@0.2.12"));
        assert!(!provides(agg, "strand:statemodel/customized-state@0.1.0"));
    }

    #[test]
    fn descriptions_list_every_entry() {
        let d = describe(World::StateModel);
        assert!(d.starts_with("wasi:cli@0.2.x, wasi:clocks@0.2.x"), "{d}");
        assert!(
            d.contains("wasi:http/{types,outgoing-handler}@0.2.x"),
            "{d}"
        );
        assert!(d.contains("strand:routing/lookup@0.1.x"), "{d}");
        assert!(!describe(World::Aggregator).contains("wasi:http"));
    }
}
