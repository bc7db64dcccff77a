//! A remote code runner on Strand — the pyhelix example, with WebAssembly
//! programs instead of Python source.
//!
//! * Runners ([`runner::Runner`]) are Strand participants tagged
//!   `code-runner`; the `CODE_RUNNER` resource puts every tagged live
//!   instance ONLINE, which is how a runner advertises itself.
//! * The client ([`client::Client`]) follows the cluster's routing table
//!   (`strand-spectator`), picks `all`, `random` or a named live runner,
//!   sends each a request and prints each one's output.
//! * [`protocol`] — how requests and replies travel (Helix messages in the
//!   property store) and what they hold.
//! * [`setup`] — the cluster and resource the runners need.
//!
//! Programs are WASI command components (`fn main` built for
//! `wasm32-wasip2`), run by `strand-plugin-host`'s `CommandRunner` with a
//! deadline, a memory cap and bounded output, and no files, environment or
//! network.

pub mod client;
pub mod protocol;
pub mod runner;
pub mod setup;
