//! ZooKeeper access control for Strand sessions: the digest credentials a
//! session authenticates with ([`DigestCredentials`], read from a file,
//! never from a command line), the ACL entries znodes carry
//! ([`AclEntry`], ZooKeeper's `scheme:id:perms` form) and which ACL a
//! session's creates get ([`CreateAcl`]).
//!
//! Helix's own `ZkClient` creates every znode with ZooKeeper's
//! `OPEN_ACL_UNSAFE` (`world:anyone:cdrwa`); that is [`CreateAcl::Open`],
//! the default. A session with credentials uses [`CreateAcl::Inherit`]:
//! each new znode carries the ACL of the znode it is created under, so a
//! cluster created with an ACL keeps it on everything Strand adds later —
//! ephemerals included.

use std::path::Path;

use zookeeper_client as zk;

/// Why credentials or an ACL entry could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The credentials file could not be read.
    #[error("cannot read the ZooKeeper credentials file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The credentials are not `user:password`.
    #[error("{origin}: {reason}")]
    Credentials {
        /// Where they came from (a file name).
        origin: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An ACL entry is not `scheme:id:perms`.
    #[error("invalid ACL entry {entry:?}: {reason}")]
    Entry {
        /// The entry as given.
        entry: String,
        /// What is wrong.
        reason: String,
    },
}

/// ZooKeeper digest credentials (`addauth digest user:password`). The
/// password never appears in `Debug` output or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct DigestCredentials {
    user: String,
    password: String,
}

impl std::fmt::Debug for DigestCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestCredentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl DigestCredentials {
    /// Credentials for `user` (no `:`, not empty) with a non-empty password.
    pub fn new(user: &str, password: &str) -> Result<Self, AuthError> {
        let invalid = |reason| AuthError::Credentials {
            origin: "digest credentials".into(),
            reason,
        };
        if user.is_empty() || user.contains(':') {
            return Err(invalid(
                "the user name must be non-empty and contain no ':'",
            ));
        }
        if password.is_empty() {
            return Err(invalid("the password is empty"));
        }
        Ok(Self {
            user: user.to_owned(),
            password: password.to_owned(),
        })
    }

    /// Parses `user:password`: the first line that is neither empty nor a
    /// `#` comment; surrounding whitespace is not part of it.
    pub fn parse(text: &str, origin: &str) -> Result<Self, AuthError> {
        let invalid = |reason| AuthError::Credentials {
            origin: origin.to_owned(),
            reason,
        };
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or_else(|| invalid("no credentials in it; expected one line user:password"))?;
        let (user, password) = line
            .split_once(':')
            .ok_or_else(|| invalid("expected user:password"))?;
        Self::new(user, password).map_err(|_| {
            invalid("expected user:password with a non-empty user (no ':') and password")
        })
    }

    /// Reads `user:password` from a file (see [`DigestCredentials::parse`]).
    pub fn from_file(path: &Path) -> Result<Self, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthError::Read {
            path: path.display().to_string(),
            source,
        })?;
        if permissions_too_open(path) {
            tracing::warn!(
                file = %path.display(),
                "the ZooKeeper credentials file is readable by other users; chmod 600 it"
            );
        }
        Self::parse(&text, &path.display().to_string())
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The bytes ZooKeeper's `digest` scheme authenticates with.
    pub(crate) fn auth_bytes(&self) -> Vec<u8> {
        format!("{}:{}", self.user, self.password).into_bytes()
    }
}

#[cfg(unix)]
fn permissions_too_open(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn permissions_too_open(_: &Path) -> bool {
    false
}

/// One ACL entry: who (`scheme:id`) may do what (`cdrwa` letters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclEntry {
    scheme: String,
    id: String,
    perms: zk::Permission,
}

impl AclEntry {
    /// `world:anyone:r`: everyone may read and list.
    pub fn world_read() -> Self {
        Self::from_parts("world", "anyone", zk::Permission::READ)
    }

    /// `world:anyone:cdrwa`: Helix's `OPEN_ACL_UNSAFE`.
    pub fn world_all() -> Self {
        Self::from_parts("world", "anyone", zk::Permission::ALL)
    }

    /// `auth::cdrwa`: every identity the creating session authenticated
    /// as (ZooKeeper stores the concrete ids).
    pub fn creator_all() -> Self {
        Self::from_parts("auth", "", zk::Permission::ALL)
    }

    fn from_parts(scheme: &str, id: &str, perms: zk::Permission) -> Self {
        Self {
            scheme: scheme.to_owned(),
            id: id.to_owned(),
            perms,
        }
    }

    /// Parses ZooKeeper's `scheme:id:perms` (as `setAcl` takes it):
    /// `digest:user:BASE64SHA1:cdrwa`, `sasl:name:cdrwa`,
    /// `ip:10.0.0.0/8:r`, `world:anyone:r`, `auth::cdrwa`, `x509:DN:cdrwa`.
    /// The id is everything between the first and the last `:`.
    pub fn parse(entry: &str) -> Result<Self, AuthError> {
        let invalid = |reason: &str| AuthError::Entry {
            entry: entry.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = entry
            .split_once(':')
            .ok_or_else(|| invalid("expected scheme:id:perms"))?;
        let (id, letters) = rest
            .rsplit_once(':')
            .ok_or_else(|| invalid("expected scheme:id:perms"))?;
        let perms = parse_perms(letters).map_err(|r| invalid(&r))?;
        match scheme {
            "world" if id != "anyone" => return Err(invalid("the world scheme's id is anyone")),
            "auth" if !id.is_empty() => {
                return Err(invalid("the auth scheme takes no id (auth::cdrwa)"));
            }
            "digest" if !id.contains(':') => {
                return Err(invalid(
                    "a digest id is user:BASE64(SHA1(user:password)) \
                     (ZooKeeper's DigestAuthenticationProvider prints it)",
                ));
            }
            "world" | "auth" | "digest" | "sasl" | "ip" | "x509" => {}
            _ => {
                return Err(invalid(
                    "unknown scheme; expected world, auth, digest, sasl, ip or x509",
                ));
            }
        }
        if scheme != "auth" && id.is_empty() {
            return Err(invalid("the id is empty"));
        }
        Ok(Self::from_parts(scheme, id, perms))
    }

    /// The scheme (`digest`, `world`, …).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The id within the scheme.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn to_zk(&self) -> zk::Acl {
        zk::Acl::new(self.perms, zk::AuthId::new(&self.scheme, &self.id))
    }
}

impl std::fmt::Display for AclEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.scheme,
            self.id,
            perm_letters(self.perms)
        )
    }
}

fn parse_perms(letters: &str) -> Result<zk::Permission, String> {
    if letters.is_empty() {
        return Err("no permissions; use letters of cdrwa".into());
    }
    letters.chars().try_fold(zk::Permission::NONE, |perms, c| {
        let one = match c {
            'c' => zk::Permission::CREATE,
            'd' => zk::Permission::DELETE,
            'r' => zk::Permission::READ,
            'w' => zk::Permission::WRITE,
            'a' => zk::Permission::ADMIN,
            other => {
                return Err(format!(
                    "unknown permission {other:?}; use letters of cdrwa"
                ));
            }
        };
        Ok(perms | one)
    })
}

fn perm_letters(perms: zk::Permission) -> String {
    [
        (zk::Permission::CREATE, 'c'),
        (zk::Permission::DELETE, 'd'),
        (zk::Permission::READ, 'r'),
        (zk::Permission::WRITE, 'w'),
        (zk::Permission::ADMIN, 'a'),
    ]
    .into_iter()
    .filter(|(p, _)| perms.has(*p))
    .map(|(_, c)| c)
    .collect()
}

/// Which ACL the znodes a session creates carry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CreateAcl {
    /// `world:anyone:cdrwa`, as Helix creates everything. The default for
    /// sessions without credentials.
    #[default]
    Open,
    /// The ACL of the nearest existing ancestor (its parent, or for a
    /// batch that creates parent and child, the parent's own): read once
    /// per parent and remembered for the session. The default for sessions
    /// with credentials.
    Inherit,
    /// Exactly these entries.
    Explicit(Vec<AclEntry>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_from_one_line_and_never_print_the_password() {
        let c = DigestCredentials::parse("# strand\n\n  ops:s3cret \n", "f").expect("parsed");
        assert_eq!(c.user(), "ops");
        assert_eq!(c.auth_bytes(), b"ops:s3cret");
        assert!(!format!("{c:?}").contains("s3cret"));
        // A password may contain ':'.
        let c = DigestCredentials::parse("ops:a:b", "f").expect("parsed");
        assert_eq!(c.auth_bytes(), b"ops:a:b");
        for bad in ["", "# only a comment", "nocolon", ":pw", "user:"] {
            let err = DigestCredentials::parse(bad, "creds.txt").expect_err(bad);
            assert!(err.to_string().starts_with("creds.txt: "), "{err}");
        }
    }

    #[test]
    fn acl_entries_parse_as_zookeeper_writes_them() {
        for (text, scheme, id) in [
            ("world:anyone:r", "world", "anyone"),
            ("auth::cdrwa", "auth", ""),
            (
                "digest:ops:x1nq8J5GOJVPY6zgzhtTtA9izLc=:cdrwa",
                "digest",
                "ops:x1nq8J5GOJVPY6zgzhtTtA9izLc=",
            ),
            ("sasl:helix:cdrwa", "sasl", "helix"),
            ("ip:10.0.0.0/8:r", "ip", "10.0.0.0/8"),
            ("ip:::1:r", "ip", "::1"),
        ] {
            let entry = AclEntry::parse(text).expect(text);
            assert_eq!((entry.scheme(), entry.id()), (scheme, id), "{text}");
            assert_eq!(entry.to_string(), text);
        }
        for bad in [
            "world",
            "world:anyone",
            "world:someone:r",
            "auth:x:r",
            "digest:ops:cdrwa",
            "sasl::r",
            "nope:x:r",
            "sasl:x:rq",
            "sasl:x:",
        ] {
            assert!(AclEntry::parse(bad).is_err(), "{bad}");
        }
    }
}
