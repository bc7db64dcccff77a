//! [`NetPolicy`]: a plugin's network grants for one calling instance —
//! placeholders filled in, host names of TCP rules resolved — and the
//! checks every outgoing connection and HTTP request goes through.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use super::rule::{HostPattern, InstanceAddress, NetRule, PortPattern};

/// What one plugin may reach during one call. The default reaches nothing.
#[derive(Debug, Clone, Default)]
pub struct NetPolicy {
    /// The expanded rules, as the operator would write them (for messages).
    rules: Vec<NetRule>,
    /// `tcp:` rules with the addresses their host stands for.
    tcp: Vec<(Vec<IpAddr>, u16, u16)>,
    /// `http://` rules: host, port, path prefix.
    http: Vec<(HostPattern, u16, String)>,
    /// Whether name lookups are granted.
    dns: bool,
    /// Rules that could not be used for this instance, with the reason.
    unusable: Vec<String>,
}

impl NetPolicy {
    /// The policy of `rules` for a call on behalf of `instance` (`None`:
    /// no instance, so rules naming `{host}` or `{port}` grant nothing).
    /// Host names in `tcp:` rules are resolved here, once.
    pub fn new(rules: &[NetRule], instance: Option<&InstanceAddress>) -> Self {
        let mut policy = Self::default();
        for rule in rules {
            let expanded = match instance {
                Some(i) => rule.expand(i),
                None if rule.has_placeholders() => None,
                None => Some(rule.clone()),
            };
            let Some(expanded) = expanded else {
                policy.unusable.push(format!(
                    "{rule}: this instance has no {} to fill in",
                    if instance.is_some() {
                        "usable HELIX_HOST/HELIX_PORT"
                    } else {
                        "address"
                    }
                ));
                continue;
            };
            match &expanded {
                NetRule::Dns => policy.dns = true,
                NetRule::Tcp {
                    host,
                    ports: PortPattern::Range(lo, hi),
                } => match resolve(host) {
                    Ok(ips) => policy.tcp.push((ips, *lo, *hi)),
                    Err(e) => policy.unusable.push(format!("{expanded}: {e}")),
                },
                NetRule::Http {
                    host,
                    port: PortPattern::Range(port, _),
                    path_prefix,
                } => policy.http.push((host.clone(), *port, path_prefix.clone())),
                _ => {}
            }
            policy.rules.push(expanded);
        }
        policy
    }

    /// Whether any rule grants name lookups.
    pub fn dns(&self) -> bool {
        self.dns
    }

    /// Whether anything at all is reachable.
    pub fn is_empty(&self) -> bool {
        self.tcp.is_empty() && self.http.is_empty() && !self.dns
    }

    /// Rules that grant nothing for this instance, with why.
    pub fn unusable(&self) -> &[String] {
        &self.unusable
    }

    /// The granted rules, expanded, for messages: `tcp:localhost:6379, dns`
    /// or `no network grants`.
    pub fn describe(&self) -> String {
        if self.rules.is_empty() {
            return "no network grants".into();
        }
        let rules: Vec<String> = self.rules.iter().map(ToString::to_string).collect();
        format!("grants: {}", rules.join(", "))
    }

    /// Checks a TCP connection to `addr`; the error names the grant it
    /// lacks.
    pub fn check_tcp(&self, addr: SocketAddr) -> Result<(), String> {
        let ip = canonical(addr.ip());
        let port = addr.port();
        if self
            .tcp
            .iter()
            .any(|(ips, lo, hi)| (*lo..=*hi).contains(&port) && ips.contains(&ip))
        {
            return Ok(());
        }
        let wanted = NetRule::Tcp {
            host: HostPattern::Ip(ip),
            ports: PortPattern::Range(port, port),
        };
        Err(format!(
            "lacks a grant such as {wanted} ({})",
            self.describe()
        ))
    }

    /// Checks an HTTP request to `host:port` for `path`; hosts compare as
    /// written in the request (lower case), never by what they resolve to.
    pub fn check_http(&self, host: &str, port: u16, path: &str) -> Result<(), String> {
        let requested = host_of(host);
        // A prefix must not be escaped with dot segments or encoded
        // separators a server would resolve (`/hooks/../admin`).
        let path_only = path.split(['?', '#']).next().unwrap_or(path);
        if path_only.split('/').any(|seg| seg == ".." || seg == ".")
            || ["%2e", "%2f", "%5c"]
                .iter()
                .any(|enc| path_only.to_ascii_lowercase().contains(enc))
            || path_only.contains('\\')
        {
            return Err(format!(
                "the path {path_only:?} is not in normal form (dot segments or encoded separators)"
            ));
        }
        let ok = |(h, p, prefix): &(HostPattern, u16, String)| {
            *p == port && Some(h) == requested.as_ref() && super::rule::path_under(path, prefix)
        };
        if self.http.iter().any(ok) {
            return Ok(());
        }
        let origin = match &requested {
            Some(h) => format!("http://{h}:{port}"),
            None => format!("http://{host}:{port}"),
        };
        Err(format!(
            "lacks a grant such as {origin}{} ({})",
            if path == "/" { "" } else { path },
            self.describe()
        ))
    }
}

/// The address a request's host names, in a rule's form.
fn host_of(host: &str) -> Option<HostPattern> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Some(HostPattern::Ip(canonical(ip)));
    }
    if host.is_empty() {
        return None;
    }
    Some(HostPattern::Name(host.to_ascii_lowercase()))
}

/// IPv4-mapped IPv6 addresses compare as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The addresses a rule's host stands for.
fn resolve(host: &HostPattern) -> Result<Vec<IpAddr>, String> {
    match host {
        HostPattern::Ip(ip) => Ok(vec![canonical(*ip)]),
        HostPattern::Name(name) => {
            let ips: BTreeSet<IpAddr> = (name.as_str(), 0)
                .to_socket_addrs()
                .map_err(|e| format!("cannot resolve {name}: {e}"))?
                .map(|a| canonical(a.ip()))
                .collect();
            if ips.is_empty() {
                return Err(format!("{name} resolves to no address"));
            }
            Ok(ips.into_iter().collect())
        }
        HostPattern::Instance => Err("{host} was not filled in".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(list: &[&str]) -> Vec<NetRule> {
        list.iter()
            .map(|s| s.parse().unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn nothing_is_reachable_without_rules() {
        let p = NetPolicy::new(&[], None);
        assert!(p.is_empty() && !p.dns());
        let e = p.check_tcp(addr("127.0.0.1:6379")).expect_err("refused");
        assert_eq!(
            e,
            "lacks a grant such as tcp:127.0.0.1:6379 (no network grants)"
        );
        let e = p.check_http("localhost", 80, "/x").expect_err("refused");
        assert_eq!(
            e,
            "lacks a grant such as http://localhost:80/x (no network grants)"
        );
    }

    #[test]
    fn tcp_rules_cover_their_ports_and_addresses() {
        let me = InstanceAddress {
            host: "127.0.0.1".into(),
            port: Some(12913),
        };
        let p = NetPolicy::new(
            &rules(&["tcp:{host}:6379-6380", "tcp:[::1]:{port}"]),
            Some(&me),
        );
        assert!(p.check_tcp(addr("127.0.0.1:6379")).is_ok());
        assert!(p.check_tcp(addr("127.0.0.1:6380")).is_ok());
        assert!(p.check_tcp(addr("[::ffff:127.0.0.1]:6380")).is_ok());
        assert!(p.check_tcp(addr("[::1]:12913")).is_ok());
        let e = p.check_tcp(addr("127.0.0.1:6381")).expect_err("refused");
        assert!(
            e.contains("tcp:127.0.0.1:6381") && e.contains("tcp:127.0.0.1:6379-6380"),
            "{e}"
        );
        assert!(p.check_tcp(addr("127.0.0.2:6379")).is_err());
        assert!(!p.dns());
    }

    #[test]
    fn names_resolve_once_and_unusable_rules_say_why() {
        let p = NetPolicy::new(&rules(&["tcp:localhost:7000", "tcp:{host}:1", "dns"]), None);
        assert!(p.check_tcp(addr("127.0.0.1:7000")).is_ok());
        assert!(p.dns());
        assert_eq!(p.unusable().len(), 1, "{:?}", p.unusable());
        let odd = NetPolicy::new(&rules(&["tcp:no-such-host.invalid:1"]), None);
        assert!(
            odd.unusable()[0].contains("cannot resolve"),
            "{:?}",
            odd.unusable()
        );
    }

    #[test]
    fn http_rules_match_host_port_and_path_prefix() {
        let me = InstanceAddress {
            host: "localhost".into(),
            port: Some(8080),
        };
        let p = NetPolicy::new(
            &rules(&["http://{host}:{port}/hooks", "http://[::1]:81"]),
            Some(&me),
        );
        assert!(p.check_http("localhost", 8080, "/hooks").is_ok());
        assert!(p.check_http("LOCALHOST", 8080, "/hooks/a?b").is_ok());
        assert!(p.check_http("[::1]", 81, "/anything").is_ok());
        assert!(p.check_http("localhost", 8080, "/hooksx").is_err());
        assert!(p.check_http("localhost", 8081, "/hooks").is_err());
        for sneaky in [
            "/hooks/../admin",
            "/hooks/./x",
            "/hooks/%2e%2e/admin",
            "/hooks%2Fx",
            "/hooks\\x",
        ] {
            let e = p
                .check_http("localhost", 8080, sneaky)
                .expect_err("refused");
            assert!(e.contains("not in normal form"), "{sneaky}: {e}");
        }
        // By name only: 127.0.0.1 is not the granted `localhost`.
        let e = p
            .check_http("127.0.0.1", 8080, "/hooks")
            .expect_err("refused");
        assert!(
            e.starts_with("lacks a grant such as http://127.0.0.1:8080/hooks"),
            "{e}"
        );
    }
}
