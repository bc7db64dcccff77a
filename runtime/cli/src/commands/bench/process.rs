//! What the benchmark reads of processes and threads from Linux's `/proc`:
//! the CPU time of this process's threads with a given name (the
//! controller runs on its own named runtime threads, so its CPU is told
//! apart from the participants' in the same process), and the resident
//! memory of a child process.

use std::path::Path;
use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`, 100 on
/// every Linux architecture Strand runs on).
const TICKS_PER_SECOND: u64 = 100;

/// CPU time (user + system) so far of this process's threads whose name
/// starts with `prefix`; `None` when `/proc` cannot be read.
pub(super) fn threads_cpu(prefix: &str) -> Option<Duration> {
    let mut ticks = 0u64;
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = entry.ok()?.path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !name.trim_end().starts_with(prefix) {
            continue;
        }
        ticks += stat_ticks(&dir.join("stat")).unwrap_or(0);
    }
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// utime + stime of a `/proc/.../stat` file.
fn stat_ticks(path: &Path) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name is in parentheses and may contain spaces: fields
    // are counted after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of the full line, utime 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time (user + system) of a process so far.
pub(super) fn process_cpu(pid: u32) -> Option<Duration> {
    let ticks = stat_ticks(Path::new(&format!("/proc/{pid}/stat")))?;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// Resident memory of a process now and at its peak, in MiB
/// (`VmRSS`, `VmHWM` of `/proc/<pid>/status`).
pub(super) fn resident_mib(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |key: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        let spin = std::time::Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_add(1);
        }
        assert!(x > 0);
        assert!(process_cpu(std::process::id()).is_some());
        let (rss, peak) = resident_mib(std::process::id()).unwrap_or((0.0, 0.0));
        assert!(rss > 0.0 && peak >= rss);
        assert!(threads_cpu("").is_some());
    }
}
