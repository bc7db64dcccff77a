//! Cross-crate end-to-end tests live in `tests/tests/`: a real controller and real participants running the Rust plugins, on a private ZooKeeper.
