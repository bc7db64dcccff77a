//! Who this process is, as Helix records it: the machine's host name
//! (`LIVE_INSTANCE`, `HELIX_HOST`, LEADER and history records, admin
//! message sources) and the JVM-style process name `<pid>@<host>`.

/// This machine's host name (`localhost` when it cannot be read or is
/// empty).
pub fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// `<pid>@<hostname>`, as the JVM names a process and Helix writes it in
/// `LIVE_INSTANCE` and the LEADER record.
pub fn process_name() -> String {
    format!("{}@{}", std::process::id(), local_hostname())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_never_empty_and_carry_the_pid() {
        assert!(!local_hostname().is_empty());
        let name = process_name();
        assert!(name.starts_with(&format!("{}@", std::process::id())));
        assert!(name.ends_with(&local_hostname()));
    }
}
