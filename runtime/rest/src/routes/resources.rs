//! Helix's `ResourceAccessor`: list, add (from parameters or a whole
//! IdealState), inspect, enable/disable, rebalance and drop resources;
//! their ResourceConfig, IdealState, external view and customized views.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use strand_admin::RebalanceMode;

use super::{AppState, record_edit, record_or_404, record_response, unsupported_command};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Params, PathArgs};

/// GET → `{"id", "idealStates", "externalViews"}`.
pub async fn list(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
) -> ApiResult<Json<Value>> {
    let ideal_states = s.admin.list_resources(&cluster).await?;
    let external_views = s.admin.list_external_views(&cluster).await?;
    Ok(Json(json!({
        "id": cluster,
        "idealStates": ideal_states,
        "externalViews": external_views,
    })))
}

/// GET one → `{"id", "idealState", "resourceConfig"|null, "externalView"|null}`.
pub async fn get(
    State(s): State<AppState>,
    PathArgs((cluster, resource)): PathArgs<(String, String)>,
) -> ApiResult<Json<Value>> {
    let ideal = s.admin.ideal_state(&cluster, &resource).await?;
    let config = s.admin.resource_config(&cluster, &resource).await?;
    let view = s.admin.external_view_record(&cluster, &resource).await?;
    Ok(Json(json!({
        "id": resource,
        "idealState": ideal.record().to_value(),
        "resourceConfig": config.map(|r| r.to_value()),
        "externalView": view.map(|r| r.to_value()),
    })))
}

/// PUT → adds the resource: from an IdealState body (its id must be the
/// path's resource), or from `numPartitions`, `stateModelRef` and
/// `rebalancerMode` (default SEMI_AUTO).
pub async fn add(
    State(s): State<AppState>,
    PathArgs((cluster, resource)): PathArgs<(String, String)>,
    params: Params,
    body: Body,
) -> ApiResult<StatusCode> {
    match params.command("addResource") {
        "addResource" => {}
        other => return Err(unsupported_command(other, &["addResource"])),
    }
    if !body.is_blank() {
        let record = body.record()?;
        s.admin
            .add_resource_with_ideal_state(&cluster, &resource, record)
            .await?;
        return Ok(StatusCode::OK);
    }
    let partitions: u32 = params.parsed("numPartitions")?.ok_or_else(|| {
        ApiError::bad_request(
            "query parameter numPartitions is required (or send an IdealState body)",
        )
    })?;
    let model = params.required("stateModelRef")?;
    let mode = match params.get("rebalancerMode") {
        None => RebalanceMode::SemiAuto,
        Some(raw) => RebalanceMode::parse(raw).ok_or_else(|| {
            ApiError::bad_request(format!(
                "rebalancerMode {raw:?} is not one of FULL_AUTO, SEMI_AUTO, CUSTOMIZED, USER_DEFINED, TASK"
            ))
        })?,
    };
    if let Some(strategy) = params.get("rebalanceStrategy")
        && strategy != "DEFAULT"
    {
        return Err(ApiError::bad_request(format!(
            "rebalanceStrategy {strategy:?} is not supported (only DEFAULT)"
        )));
    }
    if params.parsed::<i64>("bucketSize")?.unwrap_or(0) != 0 {
        return Err(ApiError::bad_request(
            "bucketSize other than 0 is not supported (bucketised records)",
        ));
    }
    if params
        .parsed::<i64>("maxPartitionsPerInstance")?
        .unwrap_or(-1)
        != -1
    {
        return Err(ApiError::bad_request(
            "maxPartitionsPerInstance is not supported; set it in an IdealState body",
        ));
    }
    s.admin
        .add_resource(&cluster, &resource, partitions, model, mode)
        .await?;
    Ok(StatusCode::OK)
}

/// POST `?command=enable|disable|rebalance&replicas=N`.
pub async fn command(
    State(s): State<AppState>,
    PathArgs((cluster, resource)): PathArgs<(String, String)>,
    params: Params,
) -> ApiResult<StatusCode> {
    match params.required("command")? {
        "enable" => {
            s.admin
                .set_resource_enabled(&cluster, &resource, true)
                .await?
        }
        "disable" => {
            s.admin
                .set_resource_enabled(&cluster, &resource, false)
                .await?
        }
        "rebalance" => {
            let replicas: u32 = params
                .parsed("replicas")?
                .ok_or_else(|| ApiError::bad_request("query parameter replicas is required"))?;
            if params.get("keyPrefix").is_some() || params.get("group").is_some() {
                return Err(ApiError::bad_request(
                    "keyPrefix and group are not supported by rebalance",
                ));
            }
            s.admin.rebalance(&cluster, &resource, replicas).await?
        }
        other => {
            return Err(unsupported_command(
                other,
                &["enable", "disable", "rebalance"],
            ));
        }
    }
    Ok(StatusCode::OK)
}

/// DELETE → drops the resource.
pub async fn delete(
    State(s): State<AppState>,
    PathArgs((cluster, resource)): PathArgs<(String, String)>,
) -> ApiResult<StatusCode> {
    s.admin.drop_resource(&cluster, &resource).await?;
    Ok(StatusCode::OK)
}

/// GET configs → the ResourceConfig record (404 when it has none).
pub async fn configs(
    State(s): State<AppState>,
    PathArgs((cluster, resource)): PathArgs<(String, String)>,
) -> ApiResult<Response> {
    s.admin.ideal_state(&cluster, &resource).await?;
    let record = s.admin.resource_config(&cluster, &resource).await?;
    record_or_404(record, || {
        format!("resource {resource} has no ResourceConfig")
    })
}

/// POST configs `?command=update|delete` (default update).
pub async fn edit_configs(
    State(s): State<AppState>,
    PathArgs((cluster, resource)): PathArgs<(String, String)>,
    params: Params,
    body: Body,
) -> ApiResult<StatusCode> {
    let how = record_edit(&params, Some("update"))?;
    let edit = body.record()?;
    s.admin
        .edit_resource_config(&cluster, &resource, how, &edit)
        .await?;
    Ok(StatusCode::OK)
}

/// GET idealState → the IdealState record.
pub async fn ideal_state(
    State(s): State<AppState>,
    PathArgs((cluster, resource)): PathArgs<(String, String)>,
) -> ApiResult<Response> {
    let ideal = s.admin.ideal_state(&cluster, &resource).await?;
    Ok(record_response(ideal.record()))
}

/// POST idealState `?command=update|delete` (default update).
pub async fn edit_ideal_state(
    State(s): State<AppState>,
    PathArgs((cluster, resource)): PathArgs<(String, String)>,
    params: Params,
    body: Body,
) -> ApiResult<StatusCode> {
    let how = record_edit(&params, Some("update"))?;
    let edit = body.record()?;
    s.admin
        .edit_ideal_state(&cluster, &resource, how, &edit)
        .await?;
    Ok(StatusCode::OK)
}

/// GET externalView → the ExternalView record (404 until the controller
/// has written one).
pub async fn external_view(
    State(s): State<AppState>,
    PathArgs((cluster, resource)): PathArgs<(String, String)>,
) -> ApiResult<Response> {
    let record = s.admin.external_view_record(&cluster, &resource).await?;
    record_or_404(record, || {
        format!("resource {resource} has no external view in cluster {cluster}")
    })
}

/// GET {customizedStateType}/customizedView → the CustomizedView record.
pub async fn customized_view(
    State(s): State<AppState>,
    PathArgs((cluster, resource, customized_type)): PathArgs<(String, String, String)>,
) -> ApiResult<Response> {
    let record = s
        .admin
        .customized_view_record(&cluster, &customized_type, &resource)
        .await?;
    record_or_404(record, || {
        format!("resource {resource} has no {customized_type} customized view in cluster {cluster}")
    })
}
