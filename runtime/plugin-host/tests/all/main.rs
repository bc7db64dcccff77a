//! Integration tests of the plugin host with the real plugins built from
//! `plugins/` (no mocks). One binary, a module per area.

mod aggregators;
mod commands;
mod common;
mod faults;
mod guest_output;
mod helix_builtins;
mod inspect;
mod models;
mod network;
mod polyglot;
mod swap;
