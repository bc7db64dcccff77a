//! Helix REST's instance operation command (`PerInstanceAccessor`,
//! `POST …/instances/{instance}?command=setInstanceOperation`):
//! `instanceOperation` (`EVACUATE` drains, `ENABLE` ends it; missing means
//! `ENABLE`, as Helix's builder reads it), `instanceOperationSource`
//! (default `USER`), `reason`, and `force=true` (source `ADMIN`, which
//! replaces every other operation).

use strand_model::{InstanceOperationKind, InstanceOperationSource};

use super::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Params;

/// Sets the instance operation the query names.
pub(super) async fn set_instance_operation(
    s: &AppState,
    cluster: &str,
    instance: &str,
    params: &Params,
) -> ApiResult<()> {
    let kind = match params.get("instanceOperation").unwrap_or("ENABLE") {
        "ENABLE" => InstanceOperationKind::Enable,
        "EVACUATE" => InstanceOperationKind::Evacuate,
        other @ ("DISABLE" | "SWAP_IN" | "UNKNOWN") => {
            return Err(ApiError::bad_request(format!(
                "instanceOperation {other} is not supported by Strand; use ENABLE or EVACUATE \
                 (and command=enable|disable for DISABLE)"
            )));
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown instanceOperation {other:?}; expected ENABLE or EVACUATE"
            )));
        }
    };
    let force = match params.get("force") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "force must be true or false, not {other:?}"
            )));
        }
    };
    let source = if force {
        InstanceOperationSource::Admin
    } else {
        match params.get("instanceOperationSource") {
            None => InstanceOperationSource::User,
            Some(raw) => InstanceOperationSource::parse(raw).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown instanceOperationSource {raw:?}; expected ADMIN, USER, AUTOMATION or DEFAULT"
                ))
            })?,
        }
    };
    s.admin
        .set_instance_operation(cluster, instance, kind, source, params.get("reason"))
        .await?;
    Ok(())
}
