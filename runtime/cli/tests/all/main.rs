//! Integration tests of the `strand` command, in one test binary (one link
//! of the workspace instead of one per file): each module runs `strand`
//! processes against real ZooKeeper servers, real plugins, a real browser
//! where it says so.

mod common;

mod admin_cli;
mod console_browser;
mod drain;
mod observability;
mod participant_app;
mod participant_cli;
mod participant_crash;
mod plugin_cli;
mod plugin_deploy_cli;
mod plugin_output_cli;
mod quickstart;
mod rest_cli;
mod routes_cli;
mod zk_faults;
