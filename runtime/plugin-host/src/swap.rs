//! [`SwapPolicy`]: which definition changes a hot swap accepts.

use serde::{Deserialize, Serialize};
use strand_model::plugin::Changes;

/// Which definition changes a hot swap accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SwapPolicy {
    /// Only candidates with the same definition (the version may differ).
    #[default]
    SameDefinition,
    /// Also candidates whose changes are all compatible.
    CompatibleChanges,
    /// Any candidate that loads and passes its canary.
    AnyChange,
}

impl SwapPolicy {
    /// Whether a candidate with `changes` may replace the running version.
    pub fn allows(&self, changes: &Changes) -> bool {
        match self {
            Self::SameDefinition => changes.is_empty(),
            Self::CompatibleChanges => changes.breaking.is_empty(),
            Self::AnyChange => true,
        }
    }
}
