//! Helix's `InstancesAccessor` / `PerInstanceAccessor`: list, add, inspect,
//! enable/disable, reset and drop instances, instance operations (drain:
//! `setInstanceOperation`, `isEvacuateFinished`, in `drain`); their
//! configs, current states, messages and error records.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use strand_model::MessageState;

use super::{AppState, record_edit, record_or_404, record_response, unsupported_command};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Params, PathArgs};

/// GET /instances → `{"id", "instances", "online", "disabled"}`.
pub async fn list(
    State(s): State<AppState>,
    PathArgs(cluster): PathArgs<String>,
) -> ApiResult<Json<Value>> {
    let info = s.admin.cluster_info(&cluster).await?;
    let ids = |keep: fn(&strand_admin::InstanceInfo) -> bool| {
        info.instances
            .iter()
            .filter(|i| keep(i))
            .map(|i| i.id.clone())
            .collect::<Vec<_>>()
    };
    Ok(Json(json!({
        "id": cluster,
        "instances": ids(|_| true),
        "online": ids(|i| i.session.is_some()),
        "disabled": ids(|i| !i.enabled),
    })))
}

/// GET one → `{"id", "liveInstance": record|null, "config": record}`.
pub async fn get(
    State(s): State<AppState>,
    PathArgs((cluster, instance)): PathArgs<(String, String)>,
) -> ApiResult<Json<Value>> {
    let config = s.admin.instance_config(&cluster, &instance).await?;
    let live = s.admin.live_instance(&cluster, &instance).await?;
    Ok(Json(json!({
        "id": instance,
        "liveInstance": live.map(|(record, _)| record.to_value()),
        "config": config.to_value(),
    })))
}

/// PUT → adds the instance: from an InstanceConfig body whose id is the
/// path's instance, or, with an empty body, from the path (`host_port`).
pub async fn add(
    State(s): State<AppState>,
    PathArgs((cluster, instance)): PathArgs<(String, String)>,
    body: Body,
) -> ApiResult<StatusCode> {
    if body.is_blank() {
        s.admin.add_instance(&cluster, &instance).await?;
    } else {
        let record = body.record()?;
        s.admin
            .add_instance_record(&cluster, &instance, record)
            .await?;
    }
    Ok(StatusCode::OK)
}

/// The body of `resetPartitions`.
#[derive(Debug, Deserialize)]
struct PartitionsBody {
    resource: String,
    partitions: Vec<String>,
}

/// The body of `addInstanceTag` / `removeInstanceTag` (Helix's
/// `PerInstanceAccessor`: the instance's id and its tags).
#[derive(Debug, Deserialize)]
struct TagsBody {
    id: String,
    #[serde(rename = "instanceTags")]
    instance_tags: Vec<String>,
}

/// POST `?command=enable|disable|resetPartitions|enablePartitions|disablePartitions|addInstanceTag|removeInstanceTag|setInstanceOperation|isEvacuateFinished`.
pub async fn command(
    State(s): State<AppState>,
    PathArgs((cluster, instance)): PathArgs<(String, String)>,
    params: Params,
    body: Body,
) -> ApiResult<Response> {
    let command = params.required("command")?;
    match command {
        "setInstanceOperation" => {
            super::drain::set_instance_operation(&s, &cluster, &instance, &params).await?
        }
        "isEvacuateFinished" => {
            let finished = s.admin.drain_status(&cluster, &instance).await?.finished();
            return Ok(Json(json!({ "successful": finished })).into_response());
        }
        "enable" => {
            s.admin
                .set_instance_enabled(&cluster, &instance, true, None)
                .await?
        }
        "disable" => {
            let reason = params.get("instanceDisabledReason");
            s.admin
                .set_instance_enabled(&cluster, &instance, false, reason)
                .await?
        }
        "resetPartitions" | "reset" => {
            let request: PartitionsBody = body.json()?;
            s.admin
                .reset_partitions(&cluster, &instance, &request.resource, &request.partitions)
                .await?
        }
        "enablePartitions" | "disablePartitions" => {
            let request: PartitionsBody = body.json()?;
            s.admin
                .set_partitions_enabled(
                    &cluster,
                    &instance,
                    &request.resource,
                    &request.partitions,
                    command == "enablePartitions",
                )
                .await?
        }
        "addInstanceTag" | "removeInstanceTag" => {
            let request: TagsBody = body.json()?;
            if request.id != instance {
                return Err(ApiError::bad_request(format!(
                    "the body's id {:?} does not match instance {instance:?}",
                    request.id
                )));
            }
            for tag in &request.instance_tags {
                if command == "addInstanceTag" {
                    s.admin.add_instance_tag(&cluster, &instance, tag).await?;
                } else {
                    s.admin
                        .remove_instance_tag(&cluster, &instance, tag)
                        .await?;
                }
            }
        }
        other => {
            return Err(unsupported_command(
                other,
                &[
                    "enable",
                    "disable",
                    "resetPartitions",
                    "enablePartitions",
                    "disablePartitions",
                    "addInstanceTag",
                    "removeInstanceTag",
                    "setInstanceOperation",
                    "isEvacuateFinished",
                ],
            ));
        }
    }
    Ok(StatusCode::OK.into_response())
}

/// DELETE → drops the instance (409 while it is live).
pub async fn delete(
    State(s): State<AppState>,
    PathArgs((cluster, instance)): PathArgs<(String, String)>,
) -> ApiResult<StatusCode> {
    s.admin.drop_instance(&cluster, &instance).await?;
    Ok(StatusCode::OK)
}

/// GET configs → the InstanceConfig record.
pub async fn configs(
    State(s): State<AppState>,
    PathArgs((cluster, instance)): PathArgs<(String, String)>,
) -> ApiResult<Response> {
    Ok(record_response(
        &s.admin.instance_config(&cluster, &instance).await?,
    ))
}

/// POST configs `?command=update|delete` (default update).
pub async fn edit_configs(
    State(s): State<AppState>,
    PathArgs((cluster, instance)): PathArgs<(String, String)>,
    params: Params,
    body: Body,
) -> ApiResult<StatusCode> {
    let how = record_edit(&params, Some("update"))?;
    let edit = body.record()?;
    s.admin
        .edit_instance_config(&cluster, &instance, how, &edit)
        .await?;
    Ok(StatusCode::OK)
}

/// GET resources → `{"id", "resources"}`: resources with a current state
/// in the instance's live session.
pub async fn resources(
    State(s): State<AppState>,
    PathArgs((cluster, instance)): PathArgs<(String, String)>,
) -> ApiResult<Json<Value>> {
    let resources = s.admin.current_state_resources(&cluster, &instance).await?;
    Ok(Json(json!({ "id": instance, "resources": resources })))
}

/// GET resources/{resource} → the current state record.
pub async fn current_state(
    State(s): State<AppState>,
    PathArgs((cluster, instance, resource)): PathArgs<(String, String, String)>,
) -> ApiResult<Response> {
    let record = s
        .admin
        .current_state_record(&cluster, &instance, &resource)
        .await?;
    record_or_404(record, || {
        format!("{instance} has no current state for {resource} in a live session")
    })
}

/// GET messages `[?stateModelDef=M]` → message ids by state (an empty list
/// when there are none; Helix answers 404).
pub async fn messages(
    State(s): State<AppState>,
    PathArgs((cluster, instance)): PathArgs<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let filter = params.get("stateModelDef");
    let mut new = Vec::new();
    let mut read = Vec::new();
    for message in s.admin.messages(&cluster, &instance).await? {
        if filter.is_some_and(|model| message.state_model_def() != Some(model)) {
            continue;
        }
        let id = message.msg_id().to_owned();
        match message.msg_state() {
            Some(MessageState::Read) => read.push(id),
            _ => new.push(id),
        }
    }
    Ok(Json(json!({
        "id": instance,
        "total_message_count": new.len() + read.len(),
        "read_message_count": read.len(),
        "new_messages": new,
        "read_messages": read,
    })))
}

/// GET messages/{message} → the Message record.
pub async fn message(
    State(s): State<AppState>,
    PathArgs((cluster, instance, msg_id)): PathArgs<(String, String, String)>,
) -> ApiResult<Response> {
    let record = s.admin.message(&cluster, &instance, &msg_id).await?;
    record_or_404(record, || format!("{instance} has no message {msg_id}"))
}

/// GET errors → `{"id", "errors": {session: {resource: [partitions]}},
/// "total_error_count"}`.
pub async fn errors(
    State(s): State<AppState>,
    PathArgs((cluster, instance)): PathArgs<(String, String)>,
) -> ApiResult<Response> {
    let index = s.admin.instance_errors(&cluster, &instance).await?;
    let total: usize = index
        .values()
        .flat_map(|resources| resources.values())
        .map(Vec::len)
        .sum();
    Ok(Json(json!({
        "id": instance,
        "errors": index,
        "total_error_count": total,
    }))
    .into_response())
}

/// GET errors/{session}/{resource}/{partition} → the error record.
pub async fn error(
    State(s): State<AppState>,
    PathArgs((cluster, instance, session, resource, partition)): PathArgs<(
        String,
        String,
        String,
        String,
        String,
    )>,
) -> ApiResult<Response> {
    let record = s
        .admin
        .instance_error(&cluster, &instance, &session, &resource, &partition)
        .await?;
    record_or_404(record, || {
        format!("{instance} has no error record for {resource} {partition} in session {session}")
    })
}
