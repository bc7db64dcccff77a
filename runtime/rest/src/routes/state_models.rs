//! `/clusters/{cluster}/statemodeldefs`: state model definitions as
//! ZNRecords.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::{AppState, record_response};
use crate::error::ApiResult;
use crate::extract::{Body, PathArgs};

/// GET → `{"id": cluster, "stateModelDefinitions": [...]}`.
pub async fn list(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
) -> ApiResult<Json<Value>> {
    let models = s.admin.list_state_models(&cluster).await?;
    Ok(Json(
        json!({ "id": cluster, "stateModelDefinitions": models }),
    ))
}

/// GET one → the definition record (404 when absent; Helix says 400).
pub async fn get(
    State(s): State<AppState>,
    PathArgs((cluster, name)): PathArgs<(String, String)>,
) -> ApiResult<Response> {
    let model = s.admin.state_model_in(&cluster, &name).await?;
    Ok(record_response(model.record()))
}

/// PUT → creates the definition (409 if it exists); the record's id must
/// be the name in the path.
pub async fn create(
    State(s): State<AppState>,
    PathArgs((cluster, name)): PathArgs<(String, String)>,
    body: Body,
) -> ApiResult<StatusCode> {
    let record = body.record()?;
    s.admin.create_state_model(&cluster, &name, record).await?;
    Ok(StatusCode::OK)
}

/// POST → creates or overwrites the definition.
pub async fn set(
    State(s): State<AppState>,
    PathArgs((cluster, name)): PathArgs<(String, String)>,
    body: Body,
) -> ApiResult<StatusCode> {
    let record = body.record()?;
    s.admin.set_state_model(&cluster, &name, record).await?;
    Ok(StatusCode::OK)
}

/// DELETE → removes the definition (409 while a resource uses it).
pub async fn delete(
    State(s): State<AppState>,
    PathArgs((cluster, name)): PathArgs<(String, String)>,
) -> ApiResult<StatusCode> {
    s.admin.drop_state_model(&cluster, &name).await?;
    Ok(StatusCode::OK)
}
