//! Helix's `ClusterAccessor`: list, create, inspect and delete clusters;
//! pause and maintenance commands; the ClusterConfig; the leader and the
//! maintenance flag.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{AppState, record_edit, record_response, unsupported_command};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Params, PathArgs};

/// What Helix reports as `controller` when no controller leads.
const NO_LEADER: &str = "No Lead Controller!";

/// GET /clusters → `{"clusters": [...]}`.
pub async fn list(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "clusters": s.admin.list_clusters().await? })))
}

/// GET /clusters/{cluster} → Helix's cluster summary.
pub async fn get(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
) -> ApiResult<Json<Value>> {
    let info = s.admin.cluster_info(&cluster).await?;
    let paused = s.admin.is_paused(&cluster).await?;
    let live: Vec<&str> = info
        .instances
        .iter()
        .filter(|i| i.session.is_some())
        .map(|i| i.id.as_str())
        .collect();
    Ok(Json(json!({
        "id": cluster,
        "controller": info.controller.as_deref().unwrap_or(NO_LEADER),
        "paused": paused,
        "maintenance": info.maintenance,
        "resources": info.resources.iter().map(|r| &r.name).collect::<Vec<_>>(),
        "instances": info.instances.iter().map(|i| &i.id).collect::<Vec<_>>(),
        "liveInstances": live,
    })))
}

/// PUT /clusters/{cluster} → 201; the Helix layout and built-in models.
pub async fn create(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
    params: Params,
) -> ApiResult<StatusCode> {
    if params.flag("recreate", false)? {
        return Err(ApiError::bad_request(
            "recreate=true is not supported: DELETE the cluster first",
        ));
    }
    if params.flag("addCloudConfig", false)? {
        return Err(ApiError::bad_request("addCloudConfig is not supported"));
    }
    s.admin.add_cluster(&cluster).await?;
    Ok(StatusCode::CREATED)
}

/// DELETE /clusters/{cluster} (refused while anything is live).
pub async fn delete(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
) -> ApiResult<StatusCode> {
    s.admin.drop_cluster(&cluster).await?;
    Ok(StatusCode::OK)
}

/// POST /clusters/{cluster}?command=enable|disable|enableMaintenanceMode|disableMaintenanceMode.
pub async fn command(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
    params: Params,
    body: Body,
) -> ApiResult<StatusCode> {
    const COMMANDS: [&str; 4] = [
        "enable",
        "disable",
        "enableMaintenanceMode",
        "disableMaintenanceMode",
    ];
    let command = params.required("command")?;
    match command {
        "enable" => s.admin.set_cluster_enabled(&cluster, true, "").await?,
        "disable" => {
            let reason = params
                .get("reason")
                .unwrap_or("paused through the REST API");
            s.admin.set_cluster_enabled(&cluster, false, reason).await?
        }
        "enableMaintenanceMode" => {
            let (reason, custom) = maintenance_body(&body)?;
            s.admin
                .set_maintenance(&cluster, true, &reason, &custom)
                .await?
        }
        "disableMaintenanceMode" => s.admin.set_maintenance(&cluster, false, "", &[]).await?,
        other => return Err(unsupported_command(other, &COMMANDS)),
    }
    Ok(StatusCode::OK)
}

/// The maintenance body: plain text is the reason; a JSON object of
/// strings gives `reason` and extra simple fields. A body that starts like
/// a JSON object but is not one is refused rather than taken as text.
fn maintenance_body(body: &Body) -> ApiResult<(String, Vec<(String, String)>)> {
    let text = body.text()?.trim();
    if !text.starts_with('{') {
        return Ok((text.to_owned(), Vec::new()));
    }
    let not_strings = |detail: String| {
        ApiError::bad_request(format!(
            "the maintenance body must be a reason or a JSON object of strings: {detail}"
        ))
    };
    let fields: serde_json::Map<String, Value> = body.json().map_err(|e| not_strings(e.message))?;
    let mut reason = String::new();
    let mut custom = Vec::new();
    for (key, value) in fields {
        let Value::String(value) = value else {
            return Err(not_strings(format!("{key} is not a string")));
        };
        if key == "reason" {
            reason = value;
        } else {
            custom.push((key, value));
        }
    }
    Ok((reason, custom))
}

/// GET /clusters/{cluster}/configs → the ClusterConfig record.
pub async fn configs(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
) -> ApiResult<Response> {
    Ok(record_response(&s.admin.cluster_config(&cluster).await?))
}

/// POST /clusters/{cluster}/configs?command=update|delete, body a record
/// whose id is the cluster name.
pub async fn edit_configs(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
    params: Params,
    body: Body,
) -> ApiResult<StatusCode> {
    let how = record_edit(&params, None)?;
    let edit = body.record()?;
    s.admin.edit_cluster_config(&cluster, how, &edit).await?;
    Ok(StatusCode::OK)
}

/// GET /clusters/{cluster}/maintenance → `{"maintenance": bool}` (plus the
/// signal's fields when on).
pub async fn maintenance(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
) -> ApiResult<Json<Value>> {
    let signal = s.admin.maintenance(&cluster).await?;
    let mut out = json!({ "maintenance": signal.is_some() });
    if let (Some(signal), Some(map)) = (signal, out.as_object_mut()) {
        for (key, value) in &signal.record().simple_fields {
            map.insert(key.clone(), Value::String(value.clone()));
        }
    }
    Ok(Json(out))
}

/// GET /clusters/{cluster}/controller → `{"id", "controller", ...LEADER
/// simple fields}`; 404 when no controller leads.
pub async fn controller(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
) -> ApiResult<Response> {
    let Some(leader) = s.admin.controller_leader(&cluster).await? else {
        return Err(ApiError::not_found(format!(
            "no controller leads cluster {cluster}"
        )));
    };
    let mut out = serde_json::Map::new();
    out.insert("id".into(), Value::String(cluster));
    out.insert("controller".into(), Value::String(leader.id.clone()));
    for (key, value) in &leader.simple_fields {
        out.insert(key.clone(), Value::String(value.clone()));
    }
    Ok(Json(Value::Object(out)).into_response())
}
