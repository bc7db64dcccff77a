//! [`ApiError`]: every failure the API answers with — a status code and a
//! JSON body `{"error": "..."}` (Helix REST's error shape) naming the
//! problem. Admin refusals map to 4xx (an ACL that refuses the server's
//! session: 403); only ZooKeeper trouble is 5xx.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use strand_admin::AdminError;
use strand_zk::ZkError;

/// A failed request: status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong, for the `error` field.
    pub message: String,
}

impl ApiError {
    /// An error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400: the request is malformed or asks for something invalid.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: the thing named does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl From<AdminError> for ApiError {
    fn from(err: AdminError) -> Self {
        let status = match &err {
            AdminError::NoSuchCluster(_)
            | AdminError::NoSuchInstance { .. }
            | AdminError::NoSuchResource { .. }
            | AdminError::NoSuchStateModel { .. } => StatusCode::NOT_FOUND,
            AdminError::ClusterExists(_)
            | AdminError::InstanceExists { .. }
            | AdminError::ResourceExists { .. }
            | AdminError::StateModelExists { .. }
            | AdminError::Refused(_) => StatusCode::CONFLICT,
            AdminError::Invalid(_) | AdminError::Model(_) => StatusCode::BAD_REQUEST,
            AdminError::Zk(zk) => zk_status(zk),
        };
        if status.is_server_error() {
            tracing::warn!(error = %err, "request failed");
        }
        Self::new(status, err.to_string())
    }
}

impl From<strand_plugin_store::StoreError> for ApiError {
    fn from(err: strand_plugin_store::StoreError) -> Self {
        let status = match &err {
            strand_plugin_store::StoreError::Zk(zk) => zk_status(zk),
            other => StatusCode::from_u16(other.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        };
        if status.is_server_error() {
            tracing::warn!(error = %err, "plugin request failed");
        }
        Self::new(status, err.to_string())
    }
}

impl From<ZkError> for ApiError {
    fn from(err: ZkError) -> Self {
        let status = zk_status(&err);
        if status.is_server_error() {
            tracing::warn!(error = %err, "request failed");
        }
        Self::new(status, err.to_string())
    }
}

/// The status for a ZooKeeper failure: races are conflicts, an unreachable
/// ZooKeeper is "unavailable", anything else (a corrupt record, say) is ours.
fn zk_status(err: &ZkError) -> StatusCode {
    match err {
        ZkError::BadVersion { .. } | ZkError::NodeExists { .. } | ZkError::NotEmpty { .. } => {
            StatusCode::CONFLICT
        }
        ZkError::NoNode { .. } => StatusCode::NOT_FOUND,
        ZkError::Connect { .. } | ZkError::SessionExpired | ZkError::ConnectionLoss { .. } => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ZkError::Multi { source, .. } => zk_status(source),
        // The ACL refuses this server's session: its credentials are missing
        // or not the cluster's.
        ZkError::NoAuth { .. } => StatusCode::FORBIDDEN,
        // A name or ACL ZooKeeper refuses slipped past the checks: still the
        // request's fault.
        ZkError::BadArguments { .. } | ZkError::InvalidAcl { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
