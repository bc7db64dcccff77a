//! The MasterSlave model written in Python and in JavaScript, end to end:
//! the same scenario as the Rust plugin's (`end_to_end.rs`) — a real
//! controller and three real participants whose MasterSlave replicas run in
//! the Python / JavaScript component converge, fail over and hand back with
//! never two MASTERs, and every replica's customized state was written by
//! that component.
//!
//! The components are built by `strand_devcluster::plugins` (toolchains
//! installed on first use) and compiled once into the persistent cache.

use strand_devcluster::plugins::names;
use strand_tests::scenarios::master_slave_converges_fails_over_and_hands_back;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn python_master_slave_converges_fails_over_and_hands_back_with_never_two_masters() {
    master_slave_converges_fails_over_and_hands_back(names::PY_MASTER_SLAVE, "0.1.0+python").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn javascript_master_slave_converges_fails_over_and_hands_back_with_never_two_masters() {
    master_slave_converges_fails_over_and_hands_back(names::JS_MASTER_SLAVE, "0.1.0+js").await;
}
