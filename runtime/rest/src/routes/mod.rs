//! The `/admin/v2` routes, one module per Helix REST accessor, and the
//! table that registers them all.

mod clusters;
mod customized;
mod drain;
mod instances;
mod plugins;
mod resources;
mod state_models;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use strand_admin::Admin;
use strand_model::ZNRecord;

use crate::table::{RouteTable, Verb};

pub use plugins::PluginStores;

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The admin operations, on one ZooKeeper session.
    pub admin: Admin,
    /// Plugin stores, one per cluster, on the same session.
    pub plugins: PluginStores,
    /// The deployment cap: largest component accepted (and the upload body limit).
    pub max_plugin_bytes: usize,
    /// The web console's live feeds, one per followed cluster.
    pub console: crate::console::Feeds,
}

/// Every route of the API (body limit and auth are layered on by the
/// caller); plugin uploads get their own limit, the deployment cap.
pub(crate) fn table(max_plugin_bytes: usize) -> RouteTable<AppState> {
    use Verb::{Delete, Get, Post, Put};
    RouteTable::new(crate::PREFIX)
        // clusters
        .add(Get, "/clusters", clusters::list)
        .add(Get, "/clusters/{cluster}", clusters::get)
        .add(Put, "/clusters/{cluster}", clusters::create)
        .add(Post, "/clusters/{cluster}", clusters::command)
        .add(Delete, "/clusters/{cluster}", clusters::delete)
        .add(Get, "/clusters/{cluster}/configs", clusters::configs)
        .add(Post, "/clusters/{cluster}/configs", clusters::edit_configs)
        .add(
            Get,
            "/clusters/{cluster}/maintenance",
            clusters::maintenance,
        )
        .add(Get, "/clusters/{cluster}/controller", clusters::controller)
        // customized-state config
        .add(
            Get,
            "/clusters/{cluster}/customized-state-config",
            customized::get,
        )
        .add(
            Put,
            "/clusters/{cluster}/customized-state-config",
            customized::put,
        )
        .add(
            Post,
            "/clusters/{cluster}/customized-state-config",
            customized::command,
        )
        .add(
            Delete,
            "/clusters/{cluster}/customized-state-config",
            customized::delete,
        )
        // state model definitions
        .add(
            Get,
            "/clusters/{cluster}/statemodeldefs",
            state_models::list,
        )
        .add(
            Get,
            "/clusters/{cluster}/statemodeldefs/{statemodel}",
            state_models::get,
        )
        .add(
            Put,
            "/clusters/{cluster}/statemodeldefs/{statemodel}",
            state_models::create,
        )
        .add(
            Post,
            "/clusters/{cluster}/statemodeldefs/{statemodel}",
            state_models::set,
        )
        .add(
            Delete,
            "/clusters/{cluster}/statemodeldefs/{statemodel}",
            state_models::delete,
        )
        // instances
        .add(Get, "/clusters/{cluster}/instances", instances::list)
        .add(
            Get,
            "/clusters/{cluster}/instances/{instance}",
            instances::get,
        )
        .add(
            Put,
            "/clusters/{cluster}/instances/{instance}",
            instances::add,
        )
        .add(
            Post,
            "/clusters/{cluster}/instances/{instance}",
            instances::command,
        )
        .add(
            Delete,
            "/clusters/{cluster}/instances/{instance}",
            instances::delete,
        )
        .add(
            Get,
            "/clusters/{cluster}/instances/{instance}/configs",
            instances::configs,
        )
        .add(
            Post,
            "/clusters/{cluster}/instances/{instance}/configs",
            instances::edit_configs,
        )
        .add(
            Get,
            "/clusters/{cluster}/instances/{instance}/resources",
            instances::resources,
        )
        .add(
            Get,
            "/clusters/{cluster}/instances/{instance}/resources/{resource}",
            instances::current_state,
        )
        .add(
            Get,
            "/clusters/{cluster}/instances/{instance}/messages",
            instances::messages,
        )
        .add(
            Get,
            "/clusters/{cluster}/instances/{instance}/messages/{message}",
            instances::message,
        )
        .add(
            Get,
            "/clusters/{cluster}/instances/{instance}/errors",
            instances::errors,
        )
        .add(
            Get,
            "/clusters/{cluster}/instances/{instance}/errors/{session}/{resource}/{partition}",
            instances::error,
        )
        // resources
        .add(Get, "/clusters/{cluster}/resources", resources::list)
        .add(
            Get,
            "/clusters/{cluster}/resources/{resource}",
            resources::get,
        )
        .add(
            Put,
            "/clusters/{cluster}/resources/{resource}",
            resources::add,
        )
        .add(
            Post,
            "/clusters/{cluster}/resources/{resource}",
            resources::command,
        )
        .add(
            Delete,
            "/clusters/{cluster}/resources/{resource}",
            resources::delete,
        )
        .add(
            Get,
            "/clusters/{cluster}/resources/{resource}/configs",
            resources::configs,
        )
        .add(
            Post,
            "/clusters/{cluster}/resources/{resource}/configs",
            resources::edit_configs,
        )
        .add(
            Get,
            "/clusters/{cluster}/resources/{resource}/idealState",
            resources::ideal_state,
        )
        .add(
            Post,
            "/clusters/{cluster}/resources/{resource}/idealState",
            resources::edit_ideal_state,
        )
        .add(
            Get,
            "/clusters/{cluster}/resources/{resource}/externalView",
            resources::external_view,
        )
        .add(
            Get,
            "/clusters/{cluster}/resources/{resource}/{customizedStateType}/customizedView",
            resources::customized_view,
        )
        // Strand's plugin deployment
        .add(Get, "/clusters/{cluster}/plugins", plugins::list)
        .add_routed(
            Post,
            "/clusters/{cluster}/plugins",
            axum::routing::post(plugins::deploy)
                .layer(axum::extract::DefaultBodyLimit::max(max_plugin_bytes)),
        )
        .add(
            Get,
            "/clusters/{cluster}/plugins/{plugin}",
            plugins::history,
        )
        .add(
            Post,
            "/clusters/{cluster}/plugins/{plugin}",
            plugins::command,
        )
}

/// A ZNRecord as Helix's JSON.
pub(crate) fn record_response(record: &ZNRecord) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        record.to_json_bytes(),
    )
        .into_response()
}

/// A record, or 404 naming what is missing.
pub(crate) fn record_or_404(
    record: Option<ZNRecord>,
    missing: impl FnOnce() -> String,
) -> crate::error::ApiResult<Response> {
    record
        .map(|r| record_response(&r))
        .ok_or_else(|| crate::error::ApiError::not_found(missing()))
}

/// Refuses a `command` this route does not have.
pub(crate) fn unsupported_command(command: &str, supported: &[&str]) -> crate::error::ApiError {
    crate::error::ApiError::bad_request(format!(
        "unsupported command {command:?}; this route supports: {}",
        supported.join(", ")
    ))
}

/// The `command` for a `configs`/`idealState` edit.
pub(crate) fn record_edit(
    params: &crate::extract::Params,
    default: Option<&str>,
) -> crate::error::ApiResult<strand_admin::RecordEdit> {
    let command = match (params.get("command"), default) {
        (Some(command), _) => command,
        (None, Some(default)) => default,
        (None, None) => {
            return Err(crate::error::ApiError::bad_request(
                "query parameter command is required (update or delete)",
            ));
        }
    };
    strand_admin::RecordEdit::parse(command)
        .ok_or_else(|| unsupported_command(command, &["update", "delete"]))
}
