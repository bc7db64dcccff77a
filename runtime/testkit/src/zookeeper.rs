//! Private ZooKeeper servers for tests.
