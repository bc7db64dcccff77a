//! [`ZkProxy`]: a TCP forwarder on loopback in front of a ZooKeeper server,
//! which a test can cut: every connection through it is dropped at once
//! and new ones are refused for a while — a network blip that leaves the
//! ZooKeeper sessions alive (when shorter than their timeout).
//!
//! # Guarantees
//! After [`ZkProxy::cut`] returns, no byte a client sends is forwarded to
//! the server until the outage is over: the forwarding tasks are aborted
//! before `cut` returns, and each checks the cut before every write.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

struct Inner {
    target: SocketAddr,
    refuse_until: Mutex<Option<Instant>>,
    connections: Mutex<Vec<AbortHandle>>,
    cut: AtomicBool,
    cuts: AtomicUsize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Inner {
    fn refusing(&self) -> bool {
        let mut until = lock(&self.refuse_until);
        match *until {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                *until = None;
                self.cut.store(false, Ordering::SeqCst);
                false
            }
            None => false,
        }
    }
}

/// The forwarder; stops (dropping every connection) when dropped.
pub struct ZkProxy {
    addr: SocketAddr,
    inner: Arc<Inner>,
    accept: tokio::task::JoinHandle<()>,
}

impl ZkProxy {
    /// Listens on a free loopback port and forwards to `target`.
    pub async fn start(target: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            target,
            refuse_until: Mutex::new(None),
            connections: Mutex::default(),
            cut: AtomicBool::new(false),
            cuts: AtomicUsize::new(0),
        });
        let shared = Arc::clone(&inner);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if shared.refusing() {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(shared.target).await else {
                    continue;
                };
                let task = tokio::spawn(forward(client, server, Arc::clone(&shared)));
                let mut connections = lock(&shared.connections);
                connections.retain(|c| !c.is_finished());
                connections.push(task.abort_handle());
            }
        });
        Ok(Self {
            addr,
            inner,
            accept,
        })
    }

    /// The connect string clients use, `127.0.0.1:<port>`.
    pub fn connect_string(&self) -> String {
        self.addr.to_string()
    }

    /// Drops every connection now and refuses new ones for `outage`.
    pub fn cut(&self, outage: Duration) {
        self.inner.cut.store(true, Ordering::SeqCst);
        *lock(&self.inner.refuse_until) = Some(Instant::now() + outage);
        for connection in lock(&self.inner.connections).drain(..) {
            connection.abort();
        }
        self.inner.cuts.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether an outage is going on (connections refused).
    pub fn in_outage(&self) -> bool {
        lock(&self.inner.refuse_until).is_some_and(|t| Instant::now() < t)
    }

    /// How often the proxy was cut.
    pub fn cuts(&self) -> usize {
        self.inner.cuts.load(Ordering::SeqCst)
    }
}

impl Drop for ZkProxy {
    fn drop(&mut self) {
        self.accept.abort();
        for connection in lock(&self.inner.connections).drain(..) {
            connection.abort();
        }
    }
}

/// Copies both ways until either side closes or the proxy is cut.
async fn forward(client: TcpStream, server: TcpStream, inner: Arc<Inner>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up = pump(&mut client_read, &mut server_write, &inner);
    let down = pump(&mut server_read, &mut client_write, &inner);
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

async fn pump<R, W>(from: &mut R, to: &mut W, inner: &Inner)
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if inner.cut.load(Ordering::SeqCst) {
            return;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}
