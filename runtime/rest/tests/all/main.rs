//! Integration tests of the HTTP admin API and the web console, in one test
//! binary (one link instead of one per file): each module serves the real
//! router against a private ZooKeeper.

mod common;

mod auth;
mod bad_input;
mod browser;
mod clusters;
mod console;
mod customized;
mod instances;
mod openapi;
mod plugins;
mod resources;
mod state_models;
