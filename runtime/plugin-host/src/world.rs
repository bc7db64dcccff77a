//! The plugin worlds this host serves and how a component's exports tell
//! which one it was built for.

use std::fmt;

use serde::Serialize;

use crate::error::LoadError;

/// A plugin world of `wit/plugins.wit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// `strand:plugins/state-model`: exports `strand:statemodel/model`.
    StateModel,
    /// `strand:plugins/aggregator`: exports `strand:aggregator/aggregate`.
    Aggregator,
}

/// The WIT version line this host serves: any `0.1.x`.
pub const SUPPORTED_VERSION: &str = "0.1";

impl World {
    /// The world's WIT name.
    pub fn wit_name(&self) -> &'static str {
        match self {
            Self::StateModel => "strand:plugins/state-model",
            Self::Aggregator => "strand:plugins/aggregator",
        }
    }

    /// The unversioned name of the interface a plugin of this world exports.
    pub fn export_interface(&self) -> &'static str {
        match self {
            Self::StateModel => "strand:statemodel/model",
            Self::Aggregator => "strand:aggregator/aggregate",
        }
    }

    /// Which world a component was built for, from its export names.
    ///
    /// # Errors
    /// [`LoadError::IncompatibleVersion`] if it exports a known interface at
    /// a version outside 0.1.x; [`LoadError::WrongWorld`] if it exports none.
    pub fn detect<'a>(exports: impl IntoIterator<Item = &'a str>) -> Result<World, LoadError> {
        let exports: Vec<&str> = exports.into_iter().collect();
        for world in [Self::StateModel, Self::Aggregator] {
            let prefix = format!("{}@", world.export_interface());
            if let Some(version) = exports.iter().find_map(|e| e.strip_prefix(prefix.as_str())) {
                return if compatible(version) {
                    Ok(world)
                } else {
                    Err(LoadError::IncompatibleVersion {
                        found: format!("{}@{version}", world.export_interface()),
                        supported: format!("{}@{SUPPORTED_VERSION}.x", world.export_interface()),
                    })
                };
            }
        }
        Err(LoadError::WrongWorld(format!(
            "exports [{}], expected {}@{SUPPORTED_VERSION}.x or {}@{SUPPORTED_VERSION}.x",
            exports.join(", "),
            Self::StateModel.export_interface(),
            Self::Aggregator.export_interface(),
        )))
    }
}

fn compatible(version: &str) -> bool {
    version
        .strip_prefix(SUPPORTED_VERSION)
        .is_some_and(|rest| rest.starts_with('.'))
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::StateModel => "state-model",
            Self::Aggregator => "aggregator",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_worlds_and_versions() {
        assert_eq!(
            World::detect(["strand:statemodel/model@0.1.3"]).ok(),
            Some(World::StateModel)
        );
        assert_eq!(
            World::detect(["x", "strand:aggregator/aggregate@0.1.0"]).ok(),
            Some(World::Aggregator)
        );
        assert!(matches!(
            World::detect(["strand:statemodel/model@0.2.0"]),
            Err(LoadError::IncompatibleVersion { .. })
        ));
        assert!(matches!(
            World::detect(["strand:statemodel/model@0.10.0"]),
            Err(LoadError::IncompatibleVersion { .. })
        ));
        assert!(matches!(
            World::detect(["wasi:http/handler@0.2.0"]),
            Err(LoadError::WrongWorld(_))
        ));
    }
}
