//! `strand participant --health-url URL` / `--health-tcp HOST:PORT`: the
//! application's health, probed every `--health-interval`, as a stream of
//! verdicts. After `--health-failures` consecutive failed probes the
//! application is unhealthy; one good probe makes it healthy again. A probe
//! passes when every configured check passes: the URL answers a `GET`
//! with a 2xx status, the TCP address accepts a connection — each within
//! the interval (at most 5 s).

use std::time::Duration;

use anyhow::{Result, bail};
use tokio::sync::watch;
use tracing::{info, warn};

/// What to probe and how often.
#[derive(Debug, Clone)]
pub struct HealthChecks {
    /// `GET` this `http://` URL; healthy on 2xx.
    pub url: Option<String>,
    /// Connect to this `HOST:PORT`.
    pub tcp: Option<String>,
    /// Time between probes (and each probe's timeout, at most 5 s).
    pub interval: Duration,
    /// Consecutive failures that make the application unhealthy.
    pub failures: u32,
}

impl HealthChecks {
    /// The checks of the flags, or `None` when none is configured.
    ///
    /// # Errors
    /// A URL that is not `http://…`, a TCP address without a port, a zero
    /// interval or failure count.
    pub fn from_flags(
        url: Option<String>,
        tcp: Option<String>,
        interval: Duration,
        failures: u32,
    ) -> Result<Option<Self>> {
        if url.is_none() && tcp.is_none() {
            return Ok(None);
        }
        if let Some(u) = &url
            && !u.starts_with("http://")
        {
            bail!("--health-url {u:?}: expected an http:// URL (the node's own application)");
        }
        if let Some(t) = &tcp {
            match t.rsplit_once(':') {
                Some((host, port))
                    if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {}
                _ => bail!("--health-tcp {t:?}: expected HOST:PORT"),
            }
        }
        if interval.is_zero() {
            bail!("--health-interval must be above zero");
        }
        if failures == 0 {
            bail!("--health-failures must be at least 1");
        }
        Ok(Some(Self {
            url,
            tcp,
            interval,
            failures,
        }))
    }

    fn timeout(&self) -> Duration {
        self.interval.min(Duration::from_secs(5))
    }

    /// One probe: `Ok`, or what failed.
    async fn probe(&self, client: &reqwest::Client) -> Result<(), String> {
        if let Some(url) = &self.url {
            match client.get(url).timeout(self.timeout()).send().await {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => return Err(format!("GET {url}: status {}", r.status())),
                Err(e) => return Err(format!("GET {url}: {e}")),
            }
        }
        if let Some(address) = &self.tcp {
            match tokio::time::timeout(self.timeout(), tokio::net::TcpStream::connect(address))
                .await
            {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(format!("tcp {address}: {e}")),
                Err(_) => {
                    return Err(format!(
                        "tcp {address}: no connection within {:?}",
                        self.timeout()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Probes until `stop`, publishing the verdict (`true`: healthy). The
    /// first verdict is the first probe's; afterwards it turns unhealthy
    /// only after `failures` consecutive failures.
    pub fn spawn(self) -> Result<(watch::Receiver<Option<bool>>, tokio::task::JoinHandle<()>)> {
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| anyhow::anyhow!("health check client: {e}"))?;
        let (tx, rx) = watch::channel(None);
        let task = tokio::spawn(async move {
            let mut failed = 0u32;
            let mut ticker = tokio::time::interval(self.interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let verdict = match self.probe(&client).await {
                    Ok(()) => {
                        failed = 0;
                        true
                    }
                    Err(why) => {
                        failed = failed.saturating_add(1);
                        warn!(
                            failed,
                            threshold = self.failures,
                            "application health check failed: {why}"
                        );
                        // Before the first good probe, any failure counts.
                        failed < self.failures && *tx.borrow() == Some(true)
                    }
                };
                if *tx.borrow() != Some(verdict) {
                    info!(healthy = verdict, "application health changed");
                }
                if tx.send(Some(verdict)).is_err() {
                    return;
                }
            }
        });
        Ok((rx, task))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_that_make_no_sense_are_refused() {
        let s = Duration::from_secs(1);
        assert!(HealthChecks::from_flags(None, None, s, 3).is_ok_and(|c| c.is_none()));
        for (url, tcp, interval, failures, wanted) in [
            (Some("ftp://x"), None, s, 3, "http://"),
            (None, Some("localhost"), s, 3, "HOST:PORT"),
            (None, Some("localhost:0"), s, 3, "HOST:PORT"),
            (None, Some(":80"), s, 3, "HOST:PORT"),
            (None, Some("h:80"), Duration::ZERO, 3, "above zero"),
            (None, Some("h:80"), s, 0, "at least 1"),
        ] {
            let e = HealthChecks::from_flags(
                url.map(Into::into),
                tcp.map(Into::into),
                interval,
                failures,
            )
            .expect_err("refused");
            assert!(e.to_string().contains(wanted), "{e}");
        }
    }
}
