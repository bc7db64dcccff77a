//! A minimal Redis client over `wasi:sockets` TCP (Rust's `std::net`):
//! commands as RESP arrays of bulk strings, one reply read per command.
//! Enough for the handful of administrative commands the model sends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// One RESP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK` and friends.
    Simple(String),
    /// `:42`.
    Integer(i64),
    /// `$n` bulk string (`None` for the null bulk string).
    Bulk(Option<String>),
    /// `*n` array (`None` for the null array).
    Array(Option<Vec<Reply>>),
}

/// A connection to one redis-server.
pub struct Redis {
    address: String,
    reader: BufReader<TcpStream>,
}

impl Redis {
    /// Connects to `address` (`HOST:PORT`).
    ///
    /// # Errors
    /// The connection's failure, naming the address (a denied address is
    /// the host's permission error).
    pub fn connect(address: &str) -> Result<Self, String> {
        let stream = TcpStream::connect(address)
            .map_err(|e| format!("cannot connect to redis at {address}: {e}"))?;
        Ok(Self {
            address: address.to_owned(),
            reader: BufReader::new(stream),
        })
    }

    /// Sends one command and reads its reply; an error reply (`-ERR …`) is
    /// an `Err` naming the command.
    ///
    /// # Errors
    /// I/O failures, a reply that does not parse, or Redis's error reply.
    pub fn call(&mut self, args: &[&str]) -> Result<Reply, String> {
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        let what = format!("redis {} {}", self.address, args.join(" "));
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .map_err(|e| format!("{what}: {e}"))?;
        self.read_reply().map_err(|e| format!("{what}: {e}"))
    }

    fn read_line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed".into());
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }

    fn read_reply(&mut self) -> Result<Reply, String> {
        let line = self.read_line()?;
        let (kind, rest) = line.split_at_checked(1).ok_or("empty reply line")?;
        let number = || {
            rest.parse::<i64>()
                .map_err(|_| format!("bad length in reply {line:?}"))
        };
        match kind {
            "+" => Ok(Reply::Simple(rest.to_owned())),
            "-" => Err(rest.to_owned()),
            ":" => Ok(Reply::Integer(number()?)),
            "$" => {
                let Ok(len) = usize::try_from(number()?) else {
                    return Ok(Reply::Bulk(None));
                };
                let mut data = vec![0; len + 2];
                self.reader
                    .read_exact(&mut data)
                    .map_err(|e| e.to_string())?;
                data.truncate(len);
                Ok(Reply::Bulk(Some(
                    String::from_utf8_lossy(&data).into_owned(),
                )))
            }
            "*" => {
                let Ok(len) = usize::try_from(number()?) else {
                    return Ok(Reply::Array(None));
                };
                let items = (0..len)
                    .map(|_| self.read_reply())
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Reply::Array(Some(items)))
            }
            _ => Err(format!("unknown reply {line:?}")),
        }
    }
}

impl Reply {
    /// The text of a simple or bulk string reply.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Simple(s) | Self::Bulk(Some(s)) => Some(s),
            _ => None,
        }
    }
}
