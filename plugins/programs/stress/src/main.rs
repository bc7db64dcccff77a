//! A WASI command that misbehaves on request, to show the code runner's
//! sandbox limits: `spin` (runs past any deadline), `alloc` (grows memory
//! past any cap), `flood` (writes stdout without end), `exit N` (WASI
//! preview 2 reports any non-zero code as failure), `panic`.

use std::hint::black_box;
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("spin") => {
            println!("spinning");
            let mut n: u64 = 0;
            loop {
                n = black_box(n.wrapping_add(1));
            }
        }
        Some("alloc") => {
            println!("allocating 1 MiB at a time");
            let mut held: Vec<Vec<u8>> = Vec::new();
            loop {
                held.push(black_box(vec![1u8; 1 << 20]));
            }
        }
        Some("flood") => {
            let line = "flood flood flood flood flood flood flood flood flood flood\n";
            let mut out = std::io::stdout().lock();
            loop {
                if out.write_all(line.as_bytes()).is_err() {
                    std::process::exit(3);
                }
            }
        }
        Some("exit") => {
            let code = args.get(1).and_then(|c| c.parse().ok()).unwrap_or(1);
            eprintln!("exiting with {code}");
            std::process::exit(code);
        }
        Some("panic") => panic!("asked to panic"),
        other => {
            eprintln!("usage: stress spin|alloc|flood|exit N|panic (got {other:?})");
            std::process::exit(2);
        }
    }
}
