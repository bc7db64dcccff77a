//! Paths of the plugin components built from `plugins/`.
