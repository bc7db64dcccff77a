//! Request extractors whose rejections are [`ApiError`]s, so a malformed
//! path, query or body gets the same JSON error as every other failure:
//! [`Params`] (query string), [`PathArgs`] (path segments, each a valid
//! znode name) and [`Body`]
//! (raw bytes under the body limit, parsed as a ZNRecord or a JSON value
//! on demand).

use std::collections::HashMap;
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use strand_model::ZNRecord;

use crate::error::ApiError;

/// The query string as name → value.
#[derive(Debug, Default)]
pub struct Params(pub HashMap<String, String>);

impl Params {
    /// A parameter, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `command`, or `default` when absent.
    pub fn command<'a>(&'a self, default: &'a str) -> &'a str {
        self.get("command").unwrap_or(default)
    }

    /// A required parameter.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::bad_request(format!("query parameter {name} is required")))
    }

    /// A parameter parsed as `T`, if given.
    pub fn parsed<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|raw| {
                raw.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "query parameter {name}={raw:?} is not a valid {}",
                        std::any::type_name::<T>()
                    ))
                })
            })
            .transpose()
    }

    /// A boolean parameter (`true`/`false`), `default` when absent.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        Ok(self.parsed::<bool>(name)?.unwrap_or(default))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(map) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))?;
        Ok(Params(map))
    }
}

/// The path's `{…}` segments, decoded; each must be a name ZooKeeper can
/// take (400 with the reason otherwise), so no bad name reaches it.
#[derive(Debug)]
pub struct PathArgs<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("malformed path: {e}")))?;
        for (param, value) in &raw {
            strand_admin::names::validate(kind_of(param), value)?;
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| PathArgs(value))
            .map_err(|e| ApiError::bad_request(format!("malformed path: {e}")))
    }
}

/// What a path parameter names, for error messages.
fn kind_of(param: &str) -> &'static str {
    match param {
        "cluster" => "cluster",
        "instance" => "instance",
        "resource" => "resource",
        "statemodel" => "state model",
        "customizedStateType" => "customized-state type",
        "plugin" => "plugin",
        "message" => "message",
        "session" => "session",
        "partition" => "partition",
        _ => "path segment",
    }
}

/// The request body (at most the configured limit).
#[derive(Debug)]
pub struct Body(pub Bytes);

impl Body {
    /// Whether the body is empty or only whitespace.
    pub fn is_blank(&self) -> bool {
        self.0.iter().all(u8::is_ascii_whitespace)
    }

    /// The body as a ZNRecord (Helix's JSON shape).
    pub fn record(&self) -> Result<ZNRecord, ApiError> {
        if self.is_blank() {
            return Err(ApiError::bad_request(
                "the request body is empty; expected a ZNRecord ({\"id\": …, \"simpleFields\": …})",
            ));
        }
        ZNRecord::from_json(&self.0)
            .map_err(|e| ApiError::bad_request(format!("the request body is not a ZNRecord: {e}")))
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, ApiError> {
        std::str::from_utf8(&self.0)
            .map_err(|_| ApiError::bad_request("the request body is not UTF-8 text"))
    }

    /// The body as JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.0)
            .map_err(|e| ApiError::bad_request(format!("malformed JSON body: {e}")))
    }
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(body_rejection)
    }
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            status,
            "the request body is larger than this server accepts (see --max-body-bytes)",
        )
    } else {
        ApiError::new(
            status,
            format!("cannot read the request body: {}", rejection.body_text()),
        )
    }
}
