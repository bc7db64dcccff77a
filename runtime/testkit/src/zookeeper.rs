//! Private ZooKeeper servers for tests: the same launcher `strand
//! quickstart` uses, re-exported so tests read `testkit::zookeeper::…`.

pub use strand_zk::server::{LocalEnsemble, LocalZk, ServerError, free_port};
