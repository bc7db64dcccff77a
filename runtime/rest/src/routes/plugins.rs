//! Strand's own `/clusters/{cluster}/plugins` routes (not in Helix): list
//! the plugins deployed to a cluster, deploy one by uploading its
//! component, show a plugin's versions and roll it back — all through
//! [`strand_plugin_store`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use strand_model::plugin::ComponentInspector;
use strand_plugin_store::{DeployOptions, PluginStore};

use super::{AppState, unsupported_command};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Params, PathArgs};

/// Who the store records as the deployer of uploads.
const DEPLOYED_BY: &str = "strand-rest";

/// One [`PluginStore`] per cluster, made on first use and kept, all
/// validating uploads with one inspector (kept warm).
#[derive(Debug, Clone, Default)]
pub struct PluginStores {
    stores: Arc<Mutex<HashMap<String, Arc<PluginStore>>>>,
    inspector: Option<Arc<dyn ComponentInspector>>,
}

impl PluginStores {
    /// Stores validating uploads with `inspector` (none: uploads are refused).
    pub fn new(inspector: Option<Arc<dyn ComponentInspector>>) -> Self {
        Self {
            stores: Arc::default(),
            inspector,
        }
    }

    fn get(&self, state: &AppState, cluster: &str) -> Arc<PluginStore> {
        let mut stores = match self.stores.lock() {
            Ok(stores) => stores,
            // A panic elsewhere while holding the lock left the map intact.
            Err(poisoned) => poisoned.into_inner(),
        };
        Arc::clone(stores.entry(cluster.to_owned()).or_insert_with(|| {
            let store = PluginStore::new(state.admin.zk().clone(), cluster);
            Arc::new(match &self.inspector {
                Some(inspector) => store.with_inspector(Arc::clone(inspector)),
                None => store,
            })
        }))
    }
}

/// The store of an existing cluster (404 naming it otherwise).
async fn store(state: &AppState, cluster: &str) -> ApiResult<Arc<PluginStore>> {
    if !state.admin.is_cluster_setup(cluster).await? {
        return Err(strand_admin::AdminError::NoSuchCluster(cluster.to_owned()).into());
    }
    Ok(state.plugins.get(state, cluster))
}

/// GET → `{"id": cluster, "plugins": [summary…]}`: each plugin's kind,
/// active version, versions and what each instance runs.
pub async fn list(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
) -> ApiResult<Json<Value>> {
    let plugins = store(&s, &cluster).await?.list().await?;
    Ok(Json(json!({ "id": cluster, "plugins": plugins })))
}

/// POST, body the component's bytes, `?name=N&force=true` optional →
/// the new active deployment.
pub async fn deploy(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
    params: Params,
    body: Body,
) -> ApiResult<Json<Value>> {
    if body.0.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; send the component's .wasm bytes",
        ));
    }
    let options = DeployOptions {
        name: params.get("name").map(str::to_owned),
        force: params.flag("force", false)?,
        max_size: s.max_plugin_bytes,
        deployed_by: DEPLOYED_BY.to_owned(),
        requests: Vec::new(),
    };
    let store = store(&s, &cluster).await?;
    let bytes = body.0;
    // Validation compiles the component: CPU work kept off the async
    // workers. (Driving the store's future on a blocking thread also spares
    // it the `Send` bound its chunk writes cannot prove.)
    let handle = tokio::runtime::Handle::current();
    let deployment = tokio::task::spawn_blocking(move || {
        handle.block_on(async move { store.deploy(&bytes, &options).await })
    })
    .await
    .map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("the deployment task failed: {e}"),
        )
    })??;
    Ok(Json(json!(deployment)))
}

/// GET one → `{"name", "versions": [deployment…]}`, oldest first.
pub async fn history(
    State(s): State<AppState>,
    PathArgs((cluster, name)): PathArgs<(String, String)>,
) -> ApiResult<Json<Value>> {
    let versions = store(&s, &cluster).await?.history(&name).await?;
    Ok(Json(json!({ "name": name, "versions": versions })))
}

/// POST one `?command=rollback[&version=V][&force=true]` → the deployment
/// active afterwards.
pub async fn command(
    State(s): State<AppState>,
    PathArgs((cluster, name)): PathArgs<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    match params.required("command")? {
        "rollback" => {
            let force = params.flag("force", false)?;
            let deployment = store(&s, &cluster)
                .await?
                .rollback_with(&name, params.get("version"), force)
                .await?;
            Ok(Json(json!(deployment)))
        }
        other => Err(unsupported_command(other, &["rollback"])),
    }
}
