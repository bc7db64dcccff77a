//! Network grant rules as operators write them, parsed and checked
//! (pure logic, no I/O):
//!
//! * `http://HOST:PORT[/path-prefix]` — outgoing HTTP requests
//!   (`wasi:http/outgoing-handler`) to that origin, optionally only under a
//!   path prefix (`/hooks` covers `/hooks` and `/hooks/…`, not `/hooksx`);
//!   the port defaults to 80.
//! * `tcp:HOST:PORT` or `tcp:HOST:LO-HI` — TCP connections
//!   (`wasi:sockets/tcp`) to that address or port range.
//! * `dns` — name lookups (`wasi:sockets/ip-name-lookup`).
//!
//! `HOST` may be an IPv4 address, a bracketed IPv6 address (`[::1]`), a host
//! name, or `{host}`; a port may be `{port}`. The placeholders stand for the
//! calling instance's `HELIX_HOST` and `HELIX_PORT` and are filled in by
//! [`NetRule::expand`] for each call.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A host in a rule: written out, or the instance's own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostPattern {
    /// `{host}`: the calling instance's `HELIX_HOST`.
    Instance,
    /// An IP address.
    Ip(IpAddr),
    /// A host name (lower case).
    Name(String),
}

/// A port in a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortPattern {
    /// `{port}`: the calling instance's `HELIX_PORT`.
    Instance,
    /// A port, or a range `LO-HI` (inclusive; equal for a single port).
    Range(u16, u16),
}

/// One network grant rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetRule {
    /// `http://HOST:PORT[/path-prefix]`.
    Http {
        /// The origin's host.
        host: HostPattern,
        /// The origin's port.
        port: PortPattern,
        /// The path prefix requests must be under (`/` for any path).
        path_prefix: String,
    },
    /// `tcp:HOST:PORT` or `tcp:HOST:LO-HI`.
    Tcp {
        /// The host connections may go to.
        host: HostPattern,
        /// The ports.
        ports: PortPattern,
    },
    /// `dns`: name lookups.
    Dns,
}

/// Why a rule does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "grant {rule:?} does not parse: {reason} (expected http://HOST:PORT[/path-prefix], tcp:HOST:PORT, tcp:HOST:LO-HI or dns; HOST may be {{host}}, PORT {{port}})"
)]
pub struct RuleError {
    /// The rule as written.
    pub rule: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The calling instance's address, for `{host}` and `{port}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct InstanceAddress {
    /// `HELIX_HOST`.
    pub host: String,
    /// `HELIX_PORT`, when the instance has one.
    pub port: Option<u16>,
}

impl FromStr for NetRule {
    type Err = RuleError;

    fn from_str(rule: &str) -> Result<Self, RuleError> {
        let fail = |reason: &str| RuleError {
            rule: rule.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = rule.trim();
        if trimmed == "dns" {
            return Ok(Self::Dns);
        }
        if let Some(rest) = trimmed.strip_prefix("tcp:") {
            let (host, port) = split_host_port(rest).map_err(|r| fail(&r))?;
            let port = port.ok_or_else(|| fail("a tcp grant needs a port or a port range"))?;
            return Ok(Self::Tcp {
                host: parse_host(host).map_err(|r| fail(&r))?,
                ports: parse_ports(port, true).map_err(|r| fail(&r))?,
            });
        }
        if let Some(rest) = trimmed.strip_prefix("http://") {
            let (authority, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            };
            if path.contains(['?', '#']) {
                return Err(fail(
                    "an http grant's path prefix cannot hold a query or fragment",
                ));
            }
            if authority.contains('@') {
                return Err(fail("an http grant cannot carry user information"));
            }
            let (host, port) = split_host_port(authority).map_err(|r| fail(&r))?;
            let port = match port {
                Some(p) => parse_ports(p, false).map_err(|r| fail(&r))?,
                None => PortPattern::Range(80, 80),
            };
            return Ok(Self::Http {
                host: parse_host(host).map_err(|r| fail(&r))?,
                port,
                path_prefix: path.to_owned(),
            });
        }
        if trimmed.starts_with("https://") {
            return Err(fail(
                "https is not supported (plugins reach their own node's application over plain http)",
            ));
        }
        if trimmed.starts_with("udp:") {
            return Err(fail("udp is not supported"));
        }
        Err(fail("unknown kind of grant"))
    }
}

/// `HOST:PORT` (or `[V6]:PORT`, or a bare `HOST`) into its parts.
fn split_host_port(s: &str) -> Result<(&str, Option<&str>), String> {
    if s.is_empty() {
        return Err("the host is missing".into());
    }
    if let Some(rest) = s.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err("an IPv6 address needs its closing ]".into());
        };
        let host = &s[..end + 2];
        return match &rest[end + 1..] {
            "" => Ok((host, None)),
            tail => match tail.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(format!("unexpected {tail:?} after the IPv6 address")),
            },
        };
    }
    match s.rsplit_once(':') {
        Some((host, port)) if host.contains(':') => Err(format!(
            "{host:?}: write an IPv6 address in brackets ([::1]:{port})"
        )),
        Some((host, port)) => Ok((host, Some(port))),
        None => Ok((s, None)),
    }
}

fn parse_host(host: &str) -> Result<HostPattern, String> {
    if host == "{host}" {
        return Ok(HostPattern::Instance);
    }
    if host.is_empty() {
        return Err("the host is missing".into());
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6
            .parse()
            .map(HostPattern::Ip)
            .map_err(|_| format!("{v6:?} is not an IPv6 address"));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(HostPattern::Ip(ip));
    }
    if host == "*" || host.contains('*') {
        return Err("wildcard hosts are not allowed; name the host".into());
    }
    let valid_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.len() > 253 || !host.split('.').all(valid_label) {
        return Err(format!("{host:?} is not a host name or IP address"));
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!("{host:?} is not an IPv4 address"));
    }
    Ok(HostPattern::Name(host.to_ascii_lowercase()))
}

fn parse_port(p: &str) -> Result<u16, String> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{p:?} is not a port"));
    }
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("{p} is not a port (1-65535)")),
        Ok(n) => Ok(n),
    }
}

fn parse_ports(p: &str, ranges: bool) -> Result<PortPattern, String> {
    if p == "{port}" {
        return Ok(PortPattern::Instance);
    }
    match p.split_once('-') {
        Some(_) if !ranges => Err("an http grant takes one port, not a range".into()),
        Some((lo, hi)) => {
            let (lo, hi) = (parse_port(lo)?, parse_port(hi)?);
            if lo > hi {
                return Err(format!("port range {lo}-{hi} is empty"));
            }
            Ok(PortPattern::Range(lo, hi))
        }
        None => parse_port(p).map(|n| PortPattern::Range(n, n)),
    }
}

impl NetRule {
    /// Whether the rule names `{host}` or `{port}`.
    pub fn has_placeholders(&self) -> bool {
        match self {
            Self::Http { host, port, .. } | Self::Tcp { host, ports: port } => {
                *host == HostPattern::Instance || *port == PortPattern::Instance
            }
            Self::Dns => false,
        }
    }

    /// The rule with `{host}` and `{port}` replaced by `instance`'s; `None`
    /// when it names `{port}` and the instance has none, or a `{host}`
    /// that is not a host name or address.
    pub fn expand(&self, instance: &InstanceAddress) -> Option<NetRule> {
        let host = |h: &HostPattern| match h {
            HostPattern::Instance => parse_host(&instance.host).ok(),
            other => Some(other.clone()),
        };
        let port = |p: &PortPattern| match p {
            PortPattern::Instance => instance.port.map(|n| PortPattern::Range(n, n)),
            other => Some(*other),
        };
        Some(match self {
            Self::Http {
                host: h,
                port: p,
                path_prefix,
            } => Self::Http {
                host: host(h)?,
                port: port(p)?,
                path_prefix: path_prefix.clone(),
            },
            Self::Tcp { host: h, ports } => Self::Tcp {
                host: host(h)?,
                ports: port(ports)?,
            },
            Self::Dns => Self::Dns,
        })
    }

    /// Whether this rule, once expanded, allows everything `other` allows
    /// (a deployment's request is covered by an operator's grant). Both are
    /// compared after expansion for the same instance.
    pub fn covers(&self, other: &NetRule) -> bool {
        match (self, other) {
            (Self::Dns, Self::Dns) => true,
            (
                Self::Tcp { host, ports },
                Self::Tcp {
                    host: h2,
                    ports: p2,
                },
            ) => host == h2 && ports_cover(*ports, *p2),
            (
                Self::Http {
                    host,
                    port,
                    path_prefix,
                },
                Self::Http {
                    host: h2,
                    port: p2,
                    path_prefix: x2,
                },
            ) => host == h2 && port == p2 && path_under(x2, path_prefix),
            _ => false,
        }
    }
}

fn ports_cover(grant: PortPattern, request: PortPattern) -> bool {
    match (grant, request) {
        (PortPattern::Range(lo, hi), PortPattern::Range(l2, h2)) => lo <= l2 && h2 <= hi,
        (PortPattern::Instance, PortPattern::Instance) => true,
        _ => false,
    }
}

/// Whether `path` is `prefix` or under it (`/a` covers `/a`, `/a/b`, `/a?x`,
/// not `/ab`); the prefix `/` covers everything.
pub(crate) fn path_under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with(['/', '?', '#']),
        None => false,
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Instance => f.write_str("{host}"),
            Self::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Name(n) => f.write_str(n),
        }
    }
}

impl fmt::Display for PortPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Instance => f.write_str("{port}"),
            Self::Range(lo, hi) if lo == hi => write!(f, "{lo}"),
            Self::Range(lo, hi) => write!(f, "{lo}-{hi}"),
        }
    }
}

impl fmt::Display for NetRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http {
                host,
                port,
                path_prefix,
            } => {
                write!(f, "http://{host}:{port}")?;
                if path_prefix != "/" {
                    f.write_str(path_prefix)?;
                }
                Ok(())
            }
            Self::Tcp { host, ports } => write!(f, "tcp:{host}:{ports}"),
            Self::Dns => f.write_str("dns"),
        }
    }
}

impl serde::Serialize for NetRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for NetRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> NetRule {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn reason(s: &str) -> String {
        match s.parse::<NetRule>() {
            Ok(r) => panic!("{s:?} parsed as {r:?}"),
            Err(e) => e.reason,
        }
    }

    #[test]
    fn good_rules_parse_and_print_back() {
        for s in [
            "http://127.0.0.1:8080",
            "http://localhost:8080/hooks",
            "http://{host}:{port}",
            "http://[::1]:9000/a/b",
            "tcp:{host}:6379-6390",
            "tcp:127.0.0.1:6379",
            "tcp:[::1]:{port}",
            "tcp:redis.example:1-65535",
            "dns",
        ] {
            assert_eq!(rule(s).to_string(), s);
        }
        assert_eq!(rule("http://app.local").to_string(), "http://app.local:80");
        assert_eq!(
            rule("http://App.Local:81/").to_string(),
            "http://app.local:81"
        );
    }

    #[test]
    fn bad_rules_say_why() {
        let cases = [
            ("", "unknown kind"),
            ("ftp://x:1", "unknown kind"),
            ("https://x:443", "https is not supported"),
            ("udp:x:53", "udp is not supported"),
            ("tcp:x", "needs a port"),
            ("tcp::80", "host is missing"),
            ("tcp:x:0", "not a port"),
            ("tcp:x:65536", "not a port"),
            ("tcp:x:80-70", "is empty"),
            ("tcp:x:-80", "not a port"),
            ("tcp:x:a-b", "not a port"),
            ("tcp:::1:80", "in brackets"),
            ("tcp:[::1:80", "closing ]"),
            ("tcp:[zz]:80", "not an IPv6 address"),
            ("tcp:*:80", "wildcard"),
            ("tcp:a*.b:80", "wildcard"),
            ("tcp:bad_host:80", "not a host name"),
            ("tcp:300.1.1.1:80", "not an IPv4 address"),
            ("tcp:{hostx}:80", "not a host name"),
            ("http://x:80-90", "not a range"),
            ("http://x:80/p?q=1", "query"),
            ("http://u@x:80", "user information"),
            ("http://:80", "host is missing"),
            ("http://x:{prt}", "not a port"),
        ];
        for (input, expected) in cases {
            let got = reason(input);
            assert!(
                got.contains(expected),
                "{input:?}: {got:?} lacks {expected:?}"
            );
        }
        let full = "tcp:x".parse::<NetRule>().expect_err("refused").to_string();
        assert!(
            full.contains("\"tcp:x\"") && full.contains("expected http://"),
            "{full}"
        );
    }

    #[test]
    fn placeholders_expand_per_instance() {
        let me = InstanceAddress {
            host: "localhost".into(),
            port: Some(12913),
        };
        assert_eq!(
            rule("http://{host}:{port}/x").expand(&me),
            Some(rule("http://localhost:12913/x"))
        );
        assert_eq!(
            rule("tcp:{host}:6379").expand(&me),
            Some(rule("tcp:localhost:6379"))
        );
        let no_port = InstanceAddress {
            host: "P0".into(),
            port: None,
        };
        assert_eq!(rule("tcp:{host}:{port}").expand(&no_port), None);
        assert_eq!(
            rule("tcp:{host}:1").expand(&no_port),
            Some(rule("tcp:p0:1"))
        );
        let odd = InstanceAddress {
            host: "not a host".into(),
            port: Some(1),
        };
        assert_eq!(rule("tcp:{host}:1").expand(&odd), None);
    }

    #[test]
    fn coverage_of_requests() {
        assert!(rule("tcp:{host}:6379-6390").covers(&rule("tcp:{host}:6380")));
        assert!(rule("tcp:{host}:6379-6390").covers(&rule("tcp:{host}:6379-6390")));
        assert!(!rule("tcp:{host}:6379-6390").covers(&rule("tcp:{host}:6378-6380")));
        assert!(!rule("tcp:{host}:6379").covers(&rule("tcp:localhost:6379")));
        assert!(rule("http://{host}:{port}").covers(&rule("http://{host}:{port}/a")));
        assert!(rule("http://h:1/a").covers(&rule("http://h:1/a/b")));
        assert!(!rule("http://h:1/a").covers(&rule("http://h:1/ab")));
        assert!(!rule("http://h:1/a").covers(&rule("http://h:1")));
        assert!(!rule("http://h:1").covers(&rule("tcp:h:1")));
        assert!(rule("dns").covers(&rule("dns")));
        assert!(!rule("tcp:h:1").covers(&rule("dns")));
    }

    #[test]
    fn path_prefixes_match_whole_segments() {
        assert!(path_under("/hooks", "/hooks"));
        assert!(path_under("/hooks/x", "/hooks/"));
        assert!(path_under("/hooks?x=1", "/hooks"));
        assert!(!path_under("/hooksx", "/hooks"));
        assert!(path_under("/anything", "/"));
    }
}
