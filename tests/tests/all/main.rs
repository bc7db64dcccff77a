//! Cross-crate end-to-end tests, in one test binary (one link of the
//! workspace instead of one per file): real controllers and participants
//! running real plugins on private ZooKeeper servers. `plugin_output.rs`
//! stays a binary of its own: it installs the process-wide log subscriber.

mod acl_cluster;
mod app_bridge;
mod end_to_end;
mod footprint;
mod hung_calls;
mod planned_maintenance;
mod plugin_deploy;
mod plugin_sdk;
mod polyglot;
mod relay;
mod rest_end_to_end;
mod routing;
mod routing_plugins;
mod step_faults;
