//! `CommandRunner`: WASI command programs (`plugins/programs/*`) run with
//! argv and stdin, captured output, and the deadline, memory and output
//! caps enforced; a failing run never stops the runner.

use std::time::Duration;

use strand_devcluster::plugins::names;
use strand_plugin_host::error::LoadError;
use strand_plugin_host::{CommandLimits, CommandRunner, CommandStatus};

use crate::common::{host, plugin};

fn program(name: &str) -> Vec<u8> {
    std::fs::read(plugin(name)).expect("read program")
}

fn runner() -> CommandRunner {
    CommandRunner::new(host()).expect("runner")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| (*a).to_owned()).collect()
}

#[test]
fn runs_a_program_with_args_and_stdin() {
    let out = runner()
        .run(
            &program(names::HELLO_PROGRAM),
            &args(&["one", "two"]),
            b"first line\nsecond\n",
            &CommandLimits::default(),
        )
        .expect("runs");
    assert_eq!(out.status, CommandStatus::Exited { code: 0 });
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        stdout.contains("hello from a sandboxed WebAssembly program"),
        "{stdout}"
    );
    assert!(stdout.contains("args: one two"), "{stdout}");
    assert!(stdout.contains("stdin: 18 bytes, 2 lines"), "{stdout}");
    assert!(stdout.contains("FIRST LINE"), "{stdout}");
}

#[test]
fn deadline_memory_and_output_caps_end_a_run_and_the_runner_keeps_serving() {
    let runner = runner();
    let stress = program(names::STRESS_PROGRAM);
    let limits = CommandLimits {
        deadline: Duration::from_millis(300),
        memory_bytes: 16 << 20,
        output_bytes: 64 << 10,
    };
    let run = |what: &[&str]| {
        runner
            .run(&stress, &args(what), b"", &limits)
            .expect("runs")
    };

    let spin = run(&["spin"]);
    assert_eq!(
        spin.status,
        CommandStatus::TimedOut {
            deadline: limits.deadline
        }
    );
    assert_eq!(
        spin.stdout, b"spinning\n",
        "output before the deadline is kept"
    );
    assert_eq!(
        run(&["alloc"]).status,
        CommandStatus::OutOfMemory {
            limit_bytes: 16 << 20
        }
    );
    let flood = run(&["flood"]);
    assert_eq!(
        flood.status,
        CommandStatus::OutputLimit {
            limit_bytes: 64 << 10
        }
    );
    assert!(flood.stdout.len() <= 64 << 10);
    assert!(flood.stdout.starts_with(b"flood flood"));
    // WASI preview 2 exits carry success or failure only.
    let exit = run(&["exit", "7"]);
    assert_eq!(exit.status, CommandStatus::Exited { code: 1 });
    assert_eq!(exit.stderr, b"exiting with 7\n");
    assert!(matches!(
        run(&["panic"]).status,
        CommandStatus::Trapped { .. }
    ));

    // Still serving.
    let hello = runner
        .run(&program(names::HELLO_PROGRAM), &[], b"", &limits)
        .expect("runs");
    assert!(hello.status.success());
}

#[test]
fn non_programs_are_refused_before_running() {
    let runner = runner();
    assert!(matches!(
        runner.run(
            b"#!/bin/sh\nrm -rf /\n",
            &[],
            b"",
            &CommandLimits::default()
        ),
        Err(LoadError::NotAComponent(_))
    ));
    // A state-model plugin is a component but not a wasi:cli/command.
    assert!(matches!(
        runner.run(
            &program(names::MASTER_SLAVE),
            &[],
            b"",
            &CommandLimits::default()
        ),
        Err(LoadError::WrongWorld(_))
    ));
}
