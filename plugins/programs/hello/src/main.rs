//! A WASI command for the remote code runner (`examples/code-runner`):
//! prints a greeting, its arguments, and what it read on stdin.

use std::io::Read;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut input = String::new();
    if let Err(err) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("cannot read stdin: {err}");
        std::process::exit(2);
    }
    println!("hello from a sandboxed WebAssembly program");
    println!("args: {}", args.join(" "));
    println!(
        "stdin: {} bytes, {} lines",
        input.len(),
        input.lines().count()
    );
    if let Some(first) = input.lines().next() {
        println!("first line, upper-cased: {}", first.to_uppercase());
    }
}
