//! `dump`: a ZooKeeper subtree with its records, as text for people or as
//! JSON for tools.

use std::fmt::Write;

use serde_json::{Value, json};
use strand_model::ZNRecord;

use crate::Admin;
use crate::error::{AdminError, Result};

/// One znode of a dump.
#[derive(Debug, Clone)]
pub struct DumpedNode {
    /// Its path.
    pub path: String,
    /// Its data version.
    pub version: i32,
    /// The session owning it, if ephemeral (lowercase hex).
    pub ephemeral_session: Option<String>,
    /// Its data size in bytes.
    pub bytes: usize,
    /// Its record, if the data is one (`Ok(None)`: no data).
    pub record: std::result::Result<Option<ZNRecord>, String>,
}

impl DumpedNode {
    /// The znode as JSON (snake_case keys, the record in Helix's shape).
    pub fn to_json(&self) -> Value {
        let mut node = json!({
            "path": self.path,
            "version": self.version,
            "ephemeral_session": self.ephemeral_session,
            "bytes": self.bytes,
        });
        if let Some(map) = node.as_object_mut() {
            match &self.record {
                Ok(Some(record)) => {
                    map.insert("record".into(), record.to_value());
                }
                Ok(None) => {
                    map.insert("record".into(), Value::Null);
                }
                Err(reason) => {
                    map.insert("record".into(), Value::Null);
                    map.insert("not_a_record".into(), Value::String(reason.clone()));
                }
            }
        }
        node
    }
}

impl Admin {
    /// Renders `path` and everything below it: each znode's path, its
    /// version and kind, then its record as Helix's JSON (or a note for
    /// data that is not a record).
    pub async fn dump(&self, path: &str) -> Result<String> {
        let mut out = String::new();
        for node in self.dump_nodes(path).await? {
            let kind = match &node.ephemeral_session {
                Some(session) => format!("ephemeral, session {session}"),
                None => "persistent".to_owned(),
            };
            let _ = writeln!(
                out,
                "=== {}  [version {} | {kind}]",
                node.path, node.version
            );
            match &node.record {
                Ok(Some(record)) => {
                    let _ = writeln!(out, "{}", record.to_json_string());
                }
                Ok(None) => {}
                Err(err) => {
                    let _ = writeln!(out, "({} bytes, not a ZNRecord: {err})", node.bytes);
                }
            }
        }
        Ok(out)
    }

    /// `path` and everything below it, depth first in name order.
    pub async fn dump_nodes(&self, path: &str) -> Result<Vec<DumpedNode>> {
        if !path.starts_with('/') {
            return Err(AdminError::Invalid(format!(
                "path {path:?} must start with '/'"
            )));
        }
        for name in path.split('/').skip(1).filter(|n| !n.is_empty()) {
            crate::names::validate("znode", name)?;
        }
        if self.zk().exists(path).await?.is_none() {
            return Err(AdminError::Invalid(format!("{path} does not exist")));
        }
        let mut nodes = Vec::new();
        let mut stack = vec![path.to_owned()];
        while let Some(node) = stack.pop() {
            let Some((data, stat)) = self.zk().get(&node).await? else {
                continue;
            };
            let record = if data.is_empty() {
                Ok(None)
            } else {
                ZNRecord::from_bytes(&data).map_err(|e| e.to_string())
            };
            nodes.push(DumpedNode {
                path: node.clone(),
                version: stat.version,
                ephemeral_session: (stat.ephemeral_owner != 0)
                    .then(|| format!("{:x}", stat.ephemeral_owner)),
                bytes: data.len(),
                record,
            });
            let mut children = self.zk().children(&node).await?;
            children.reverse();
            stack.extend(children.into_iter().map(|c| strand_zk::join(&node, &c)));
        }
        Ok(nodes)
    }
}
