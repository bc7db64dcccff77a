//! `dump`: a ZooKeeper subtree printed with its records, for people.

use std::fmt::Write;

use strand_model::ZNRecord;

use crate::Admin;
use crate::error::{AdminError, Result};

impl Admin {
    /// Renders `path` and everything below it: each znode's path, its
    /// version and kind, then its record as Helix's JSON (or a note for
    /// data that is not a record).
    pub async fn dump(&self, path: &str) -> Result<String> {
        if !path.starts_with('/') {
            return Err(AdminError::Invalid(format!(
                "path {path:?} must start with '/'"
            )));
        }
        if self.zk().exists(path).await?.is_none() {
            return Err(AdminError::Invalid(format!("{path} does not exist")));
        }
        let mut out = String::new();
        let mut stack = vec![path.to_owned()];
        while let Some(node) = stack.pop() {
            let Some((data, stat)) = self.zk().get(&node).await? else {
                continue;
            };
            let kind = if stat.ephemeral_owner != 0 {
                format!("ephemeral, session {:x}", stat.ephemeral_owner)
            } else {
                "persistent".to_owned()
            };
            let _ = writeln!(out, "=== {node}  [version {} | {kind}]", stat.version);
            if !data.is_empty() {
                match ZNRecord::from_bytes(&data) {
                    Ok(Some(record)) => {
                        let _ = writeln!(out, "{}", record.to_json_string());
                    }
                    Ok(None) => {}
                    Err(err) => {
                        let _ = writeln!(out, "({} bytes, not a ZNRecord: {err})", data.len());
                    }
                }
            }
            let mut children = self.zk().children(&node).await?;
            children.reverse();
            stack.extend(children.into_iter().map(|c| strand_zk::join(&node, &c)));
        }
        Ok(out)
    }
}
