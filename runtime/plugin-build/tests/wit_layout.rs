//! The layout rules of `wit/README.md`: `deps/` folders named after the
//! package versions they hold, and the plugin SDK's own copy of the WIT
//! (`plugins/sdk/wit/`) exactly the repository's `wit/` (or plugins built
//! with the SDK would target a contract the host was not built for).

use std::path::{Path, PathBuf};

use strand_plugin_build::wit_dir;
use strand_plugin_build::wit_layout::{differences, misnamed_deps, sdk_wit_dir};

fn plugins_dir() -> PathBuf {
    let plugins = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins");
    plugins.canonicalize().unwrap_or(plugins)
}

#[test]
fn deps_folders_are_named_after_their_package_versions() {
    let wit = wit_dir(&plugins_dir());
    let wrong = misnamed_deps(&wit).expect("reading wit/deps");
    assert!(
        wrong.is_empty(),
        "in {}:\n  {}",
        wit.display(),
        wrong.join("\n  ")
    );
}

#[test]
fn the_sdk_copy_of_the_wit_equals_wit() {
    let plugins = plugins_dir();
    let (wit, copy) = (wit_dir(&plugins), sdk_wit_dir(&plugins));
    let drift = differences(&wit, &copy).expect("reading both WIT trees");
    assert!(
        drift.is_empty(),
        "{} has drifted from {}:\n  {}\nrefresh it: rm -r plugins/sdk/wit && cp -r wit plugins/sdk/wit",
        copy.display(),
        wit.display(),
        drift.join("\n  ")
    );
}
