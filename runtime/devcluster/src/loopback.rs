//! Stand-ins for the application a plugin reaches (tests of network
//! grants): a server on a free loopback port that answers HTTP/1.1 (200 or
//! a chosen status), one line, or never, and records what reached it. Each connection is served
//! on a thread of its own until the test process ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// How a [`serve`]d server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// HTTP/1.1: reads one request, records its start line and body,
    /// answers `200 OK` and closes.
    Http,
    /// As [`Answer::Http`], answering with this status instead (`503`: an
    /// application that refuses the transition).
    HttpStatus(u16),
    /// Reads one line, records it, answers `OK noted`.
    Line,
    /// Accepts and reads, never answers (the connection stays open).
    Never,
}

/// One request a server saw.
#[derive(Debug, Clone)]
struct Request {
    /// The HTTP start line (`None` for a line).
    head: Option<String>,
    /// The HTTP body, or the line.
    body: String,
}

/// What a server saw.
#[derive(Debug, Default)]
pub struct Seen {
    connections: AtomicUsize,
    requests: Mutex<Vec<Request>>,
}

impl Seen {
    /// Connections accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Each request as `"<start line> <body>"` (HTTP) or the line.
    pub fn requests(&self) -> Vec<String> {
        self.all()
            .into_iter()
            .map(|r| match r.head {
                Some(head) => format!("{head} {}", r.body),
                None => r.body,
            })
            .collect()
    }

    /// Each request's body (HTTP) or line.
    pub fn bodies(&self) -> Vec<String> {
        self.all().into_iter().map(|r| r.body).collect()
    }

    fn all(&self) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn record(&self, request: Request) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }
}

/// A server answering as `answer` on a free loopback port: its port and
/// what it sees.
///
/// # Panics
/// No loopback port can be bound.
pub fn serve(answer: Answer) -> (u16, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    let seen = Arc::new(Seen::default());
    let server = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            server.connections.fetch_add(1, Ordering::SeqCst);
            let seen = Arc::clone(&server);
            std::thread::spawn(move || handle(stream, answer, &seen));
        }
    });
    (port, seen)
}

fn handle(stream: TcpStream, answer: Answer, seen: &Seen) {
    let mut reader = BufReader::new(stream);
    match answer {
        Answer::Http | Answer::HttpStatus(_) => {
            let mut head = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
                if head.is_empty() {
                    head = line.trim_end().to_owned();
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            seen.record(Request {
                head: Some(head),
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let status = match answer {
                Answer::HttpStatus(status) => status,
                _ => 200,
            };
            let response = format!(
                "HTTP/1.1 {status} {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                if status == 200 { "OK" } else { "Not OK" }
            );
            let _ = reader.get_mut().write_all(response.as_bytes());
        }
        Answer::Line => {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) > 0 {
                seen.record(Request {
                    head: None,
                    body: line.trim_end().to_owned(),
                });
                let _ = reader.get_mut().write_all(b"OK noted\n");
            }
        }
        Answer::Never => {
            let mut sink = [0u8; 1024];
            while reader.read(&mut sink).unwrap_or(0) > 0 {}
        }
    }
}
