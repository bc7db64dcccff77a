//! `/clusters/{cluster}/customized-state-config`: which customized-state
//! types the controller aggregates into customized views.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{AppState, record_or_404, unsupported_command};
use crate::error::ApiResult;
use crate::extract::{Body, Params, PathArgs};

/// GET → the CustomizedStateConfig record; 404 when the cluster has none.
pub async fn get(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
) -> ApiResult<Response> {
    let record = s.admin.customized_state_config(&cluster).await?;
    record_or_404(record, || {
        format!("cluster {cluster} has no customized-state config")
    })
}

/// PUT, body a CustomizedStateConfig record → replaces the config with the
/// record's `AGGREGATION_ENABLED_TYPES`.
pub async fn put(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
    body: Body,
) -> ApiResult<StatusCode> {
    let record = body.record()?;
    s.admin
        .set_customized_state_config(&cluster, &record)
        .await?;
    Ok(StatusCode::OK)
}

/// POST `?command=add|delete&type=T` → adds or removes one type.
pub async fn command(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
    params: Params,
) -> ApiResult<StatusCode> {
    let customized_type = params.required("type")?;
    match params.command("add") {
        "add" => {
            s.admin
                .add_customized_state_type(&cluster, customized_type)
                .await?
        }
        "delete" => {
            s.admin
                .remove_customized_state_type(&cluster, customized_type)
                .await?
        }
        other => return Err(unsupported_command(other, &["add", "delete"])),
    }
    Ok(StatusCode::OK)
}

/// DELETE → removes the config (nothing is aggregated after).
pub async fn delete(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
) -> ApiResult<StatusCode> {
    s.admin.remove_customized_state_config(&cluster).await?;
    Ok(StatusCode::OK)
}
