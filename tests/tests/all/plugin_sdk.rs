//! The plugin SDK outside this repository: the walkthrough of
//! `docs/writing-plugins.md` ("A new Rust plugin, outside this repository"),
//! step by step, in a temporary directory, with the SDK by absolute path.
//! The component is checked as `strand plugin check` checks it, and its
//! transitions run through the host, so the page, the SDK and the host
//! cannot drift apart unnoticed.
//!
//! The build's target directory is `plugins/target/outside-sdk`, kept
//! across runs so that `wit-bindgen` compiles once per machine, not once
//! per run; the plugin crate itself is always new.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use strand_devcluster::plugins::{WASM_TARGET, ensure_built, plugins_dir, repo_root};
use strand_plugin_host::{
    CallError, CallOptions, HostConfig, InMemoryCustomizedState, PluginHost, PluginOptions,
    PluginRegistry, Rejection, TransitionContext, World, inspect_bytes,
};

const SECTION: &str = "## A new Rust plugin, outside this repository";
/// Where the page puts the Strand checkout.
const CHECKOUT: &str = "/path/to/strand";
/// The page's shell steps, in order; the test performs each.
const STEPS: [&str; 6] = [
    "cargo new --lib cache-model",
    "cd cache-model",
    "cp /path/to/strand/plugins/Cargo.lock .",
    "rustup target add wasm32-wasip2",
    "cargo build --release --target wasm32-wasip2",
    "strand plugin check target/wasm32-wasip2/release/cache_model.wasm",
];

#[test]
fn the_walkthrough_builds_a_plugin_outside_the_repository() {
    // Builds plugins/ (so the registry cache holds every crate the lock file
    // names) and fails with the fix when the wasm target is missing.
    ensure_built().expect("plugins/ builds");
    let root = repo_root().canonicalize().expect("repository root");
    let page = std::fs::read_to_string(root.join("docs/writing-plugins.md")).expect("the page");
    let section = section(&page, SECTION);
    assert_eq!(
        shell_steps(section),
        STEPS,
        "the page's steps changed: update STEPS and what the test does"
    );

    let scratch = tempfile::tempdir().expect("temp dir");
    let scratch_dir = scratch.path().canonicalize().expect("temp dir");
    assert!(
        !scratch_dir.starts_with(&root),
        "{} is inside the repository",
        scratch_dir.display()
    );
    let checkout = root.display().to_string();
    let crate_dir = scratch_dir.join("cache-model");
    let target_dir = plugins_dir().join("target").join("outside-sdk");

    run(cargo(&scratch_dir, &target_dir).args(["new", "--lib", "cache-model"]));
    assert!(
        crate_dir.join("Cargo.toml").is_file(),
        "cargo new made the crate"
    );
    std::fs::copy(
        root.join("plugins/Cargo.lock"),
        crate_dir.join("Cargo.lock"),
    )
    .expect("cp");
    // `rustup target add`: ensure_built checked that the target is installed.
    for (file, language) in [("Cargo.toml", "toml"), ("src/lib.rs", "rust")] {
        let text = file_block(section, file, language).replace(CHECKOUT, &checkout);
        std::fs::write(crate_dir.join(file), text).expect("write the page's file");
    }
    run(cargo(&crate_dir, &target_dir).args(["build", "--release", "--target", WASM_TARGET]));

    let component = target_dir
        .join(WASM_TARGET)
        .join("release/cache_model.wasm");
    let bytes = std::fs::read(&component).expect("the built component");
    let host = PluginHost::new(HostConfig::default()).expect("plugin host");
    let report = inspect_bytes(&host, "cache_model", &bytes, true).expect("strand plugin check");
    assert_eq!(report.world, World::StateModel);
    let definition = report.definition.expect("a state model's definition");
    assert_eq!(definition.name, "CacheOnlineOffline");
    assert_eq!(definition.version, "0.1.0");
    assert_eq!(definition.initial_state, "OFFLINE");
    assert_eq!(
        definition.transition_priority_list(),
        ["OFFLINE-ONLINE", "ONLINE-OFFLINE", "OFFLINE-DROPPED"]
    );

    runs_its_transitions(&host, &bytes);
}

/// The page's model through the host: config, customized state, the log
/// and the clock, and each error case.
fn runs_its_transitions(host: &Arc<PluginHost>, bytes: &[u8]) {
    let store = Arc::new(InMemoryCustomizedState::new());
    let registry = PluginRegistry::new(host.clone());
    let options = PluginOptions {
        customized_state: Some(store.clone()),
        ..PluginOptions::default()
    };
    registry
        .install_bytes("CacheOnlineOffline", bytes, options)
        .expect("install");
    let model = registry
        .state_model("CacheOnlineOffline")
        .expect("installed");
    let call = CallOptions::default();

    let mut online = ctx("OFFLINE", "ONLINE");
    online
        .config
        .push(("cache.source".into(), "s3://bucket/db".into()));
    let outcome = model.transition(&online, &call).expect("OFFLINE->ONLINE");
    assert_eq!(outcome.note, "OFFLINE->ONLINE");
    let cache = store
        .snapshot("CACHE", "db", "db_3")
        .expect("the model wrote its customized state");
    assert_eq!(
        cache.get("SOURCE").map(String::as_str),
        Some("s3://bucket/db")
    );
    assert!(
        cache
            .get("LOAD_MS")
            .is_some_and(|ms| ms.parse::<u64>().is_ok()),
        "{cache:?}"
    );

    model
        .transition(&ctx("ONLINE", "OFFLINE"), &call)
        .expect("ONLINE->OFFLINE");
    assert_eq!(store.snapshot("CACHE", "db", "db_3"), None, "deleted");

    match model.transition(&ctx("OFFLINE", "ONLINE"), &call) {
        Err(CallError::Rejected {
            kind: Rejection::Fatal,
            message,
        }) => assert!(message.contains("cache.source"), "{message}"),
        other => panic!("expected a fatal error without cache.source, got {other:?}"),
    }
    match model.transition(&ctx("ONLINE", "DROPPED"), &call) {
        Err(CallError::Rejected {
            kind: Rejection::IllegalTransition,
            message,
        }) => assert!(message.contains("ONLINE->DROPPED"), "{message}"),
        other => panic!("expected an illegal transition, got {other:?}"),
    }
}

fn ctx(from: &str, to: &str) -> TransitionContext {
    TransitionContext {
        cluster: "c1".into(),
        instance: "host_12000".into(),
        resource: "db".into(),
        partition: "db_3".into(),
        from_state: from.into(),
        to_state: to.into(),
        message_id: "m-1".into(),
        config: Vec::new(),
    }
}

/// The text from `heading` to the next heading of the same level.
fn section<'a>(page: &'a str, heading: &str) -> &'a str {
    let start = page
        .find(&format!("{heading}\n"))
        .unwrap_or_else(|| panic!("the page has no section {heading:?}"));
    let body = &page[start + heading.len()..];
    &page[start..start + heading.len() + body.find("\n## ").unwrap_or(body.len())]
}

/// The lines of every ```sh block, comments and blank lines left out.
fn shell_steps(section: &str) -> Vec<&str> {
    let mut steps = Vec::new();
    let mut in_shell = false;
    for line in section.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_shell = !in_shell && trimmed == "```sh";
            continue;
        }
        let step = trimmed.split(" #").next().unwrap_or("").trim();
        if in_shell && !step.is_empty() && !step.starts_with('#') {
            steps.push(step);
        }
    }
    steps
}

/// The ```language block right after the caption "`file`:".
fn file_block(section: &str, file: &str, language: &str) -> String {
    let caption = format!("`{file}`:\n");
    let after = section
        .find(&caption)
        .map(|i| &section[i + caption.len()..])
        .unwrap_or_else(|| panic!("the page shows no {file}"));
    let open = format!("```{language}\n");
    let body = after
        .trim_start()
        .strip_prefix(&open)
        .unwrap_or_else(|| panic!("{file} is not followed by a {open:?} block"));
    let end = body
        .find("\n```")
        .unwrap_or_else(|| panic!("{file}'s block is not closed"));
    format!("{}\n", &body[..end])
}

/// `cargo` in `dir`, building into `target_dir`, with none of the settings
/// of the cargo that runs this test.
fn cargo(dir: &Path, target_dir: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS");
    command
}

/// Runs `command`, failing the test with its stderr if it fails.
fn run(command: &mut Command) {
    let shown = format!("{command:?}");
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
