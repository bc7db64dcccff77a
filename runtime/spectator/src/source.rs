//! [`ViewSource`]: the view a routing table is built from — Helix's
//! `PropertyType.EXTERNALVIEW`, or `PropertyType.CUSTOMIZEDVIEW` with one
//! customized-state type.

use std::fmt;

use crate::error::{Result, SpectatorError};

/// Which view a routing table reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViewSource {
    /// `/<C>/EXTERNALVIEW/<R>`: the controller's view of current states.
    ExternalView,
    /// `/<C>/CUSTOMIZEDVIEW/<type>/<R>`: the aggregated customized states of
    /// one type.
    Customized(String),
}

impl ViewSource {
    /// A customized-view source, checked: the type must be a non-empty
    /// znode name.
    ///
    /// # Errors
    /// [`SpectatorError::InvalidSource`] for an empty name or one with `/`.
    pub fn customized(state_type: &str) -> Result<Self> {
        if state_type.is_empty()
            || state_type.contains('/')
            || state_type == "."
            || state_type == ".."
        {
            return Err(SpectatorError::InvalidSource(format!(
                "customized-state type {state_type:?} is not a znode name"
            )));
        }
        Ok(Self::Customized(state_type.to_owned()))
    }

    /// The customized-state type, for a customized source.
    pub fn customized_type(&self) -> Option<&str> {
        match self {
            Self::ExternalView => None,
            Self::Customized(t) => Some(t),
        }
    }
}

impl fmt::Display for ViewSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ExternalView => f.write_str("EXTERNALVIEW"),
            Self::Customized(t) => write!(f, "CUSTOMIZEDVIEW/{t}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customized_types_must_be_znode_names() {
        assert!(ViewSource::customized("").is_err());
        assert!(ViewSource::customized("A/B").is_err());
        assert!(ViewSource::customized("..").is_err());
        assert_eq!(
            ViewSource::customized("DEPLOY_STATE")
                .map(|s| s.to_string())
                .ok(),
            Some("CUSTOMIZEDVIEW/DEPLOY_STATE".to_owned())
        );
    }
}
