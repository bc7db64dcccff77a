//! Outbound network for plugins, denied unless granted: the grant rules
//! ([`NetRule`]), the operator's allowlist per plugin ([`GrantTable`]),
//! what they allow for one calling instance ([`NetPolicy`]),
//! `wasi:http/outgoing-handler` behind the policy ([`http`]), the
//! `wasi:sockets` address check, and the `wasi:io` waits that the call's
//! deadline bounds ([`bounded`]).

pub(crate) mod bounded;
pub(crate) mod http;
mod policy;
mod rule;
mod table;

use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use wasmtime_wasi::sockets::SocketAddrUse;

pub use policy::NetPolicy;
pub use rule::{HostPattern, InstanceAddress, NetRule, PortPattern, RuleError};
pub use table::{GrantTable, RequestError};

/// Decides a `wasi:sockets` use: TCP connections the policy covers, and
/// the implicit bind a connect makes (the wildcard address, port 0).
/// Listening, accepting, explicit binds and UDP are never granted. A denial
/// is logged with the plugin, the address and the grant it lacks.
pub(crate) fn socket_allowed(
    plugin: &str,
    policy: &ArcSwap<NetPolicy>,
    addr: SocketAddr,
    usage: SocketAddrUse,
) -> bool {
    let verdict = match usage {
        SocketAddrUse::TcpConnect => policy.load().check_tcp(addr),
        SocketAddrUse::TcpBind if addr.ip().is_unspecified() && addr.port() == 0 => Ok(()),
        other => Err(format!(
            "{other:?} is never granted (plugins may only connect out, tcp:HOST:PORT)"
        )),
    };
    match verdict {
        Ok(()) => true,
        Err(reason) => {
            tracing::warn!(
                plugin,
                address = %addr,
                "plugin {plugin} denied TCP {usage:?} {addr}: {reason}"
            );
            false
        }
    }
}

/// The policy shared by a store's socket check and HTTP hooks; the host
/// replaces its value at the start of every call.
pub(crate) type SharedPolicy = Arc<ArcSwap<NetPolicy>>;
