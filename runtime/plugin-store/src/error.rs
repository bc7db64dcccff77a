//! [`StoreError`]: why a store operation failed. The variants map onto HTTP
//! status codes (noted on each) so a REST layer can pass them through.

use strand_zk::ZkError;

/// A failed plugin-store operation. Nothing was changed unless the variant
/// says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such plugin, version or artefact (404).
    #[error("not found: {0}")]
    NotFound(String),
    /// The request or the component is not acceptable (400): not a
    /// component, a wrong world, a bad definition, a failed canary, a bad
    /// name.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The component is larger than the size cap (413).
    #[error("the component is {size} bytes, over the limit of {max} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The cap.
        max: usize,
    },
    /// Storing the component would take the cluster's plugin store over
    /// its budget (507): ZooKeeper keeps every byte in memory.
    #[error(
        "deploying {what} would store {} more of plugin artefacts in ZooKeeper ({} in all), over \
         this cluster's budget of {} ({} used now); remove versions (`strand plugin remove`, \
         `strand plugin gc --keep N`) or raise the budget (`strand plugin config --budget`) once \
         ZooKeeper has the heap for it (see the README)",
        mib(*adding), mib(used.saturating_add(*adding)), mib(*budget), mib(*used)
    )]
    OverBudget {
        /// The plugin and version refused.
        what: String,
        /// The bytes its artefact would add (compressed).
        adding: u64,
        /// The bytes stored now.
        used: u64,
        /// The budget.
        budget: u64,
    },
    /// The request conflicts with what is deployed (409): another kind
    /// under the name, a version string taken by other bytes, a definition
    /// change that resources in use would not survive, removing the active
    /// version.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored artefact or record is damaged (500): a missing or short
    /// chunk, a SHA-256 mismatch, an unreadable record.
    #[error("corrupt: {0}")]
    Corrupt(String),
    /// No plugin host to validate components with: the store was given
    /// none, or it could not start (500).
    #[error("plugin host: {0}")]
    Host(String),
    /// ZooKeeper failed (503).
    #[error(transparent)]
    Zk(#[from] ZkError),
}

impl StoreError {
    /// The HTTP status code this error maps to.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            Self::Invalid(_) => 400,
            Self::TooLarge { .. } => 413,
            Self::OverBudget { .. } => 507,
            Self::Conflict(_) => 409,
            Self::Corrupt(_) | Self::Host(_) => 500,
            Self::Zk(_) => 503,
        }
    }
}

/// `12.3 MiB`, for messages.
pub(crate) fn mib(bytes: u64) -> String {
    let tenths = bytes.saturating_mul(10) / (1 << 20);
    format!("{}.{} MiB", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_budget_says_what_how_much_and_what_to_do() {
        let e = StoreError::OverBudget {
            what: "Noisy 2".into(),
            adding: 6 << 20,
            used: 60 << 20,
            budget: 64 << 20,
        };
        let text = e.to_string();
        assert!(text.contains("Noisy 2"), "{text}");
        assert!(text.contains("6.0 MiB more"), "{text}");
        assert!(text.contains("66.0 MiB in all"), "{text}");
        assert!(text.contains("budget of 64.0 MiB"), "{text}");
        assert!(text.contains("strand plugin gc"), "{text}");
        assert_eq!(e.http_status(), 507);
    }
}
