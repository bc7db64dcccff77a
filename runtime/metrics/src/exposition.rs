//! Rendering the registry for a scrape: Prometheus' text format 0.0.4 by
//! default, OpenMetrics when the scraper's `Accept` asks for it.

use prometheus_client::encoding::{prometheus_text, text};

use crate::Metrics;

/// Content type of Prometheus' text format.
pub const TEXT_CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Content type of the OpenMetrics text format.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus' text format, version 0.0.4.
    Text,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// The format an `Accept` header asks for: OpenMetrics only when it is
    /// named (as Prometheus does when it prefers it), else text.
    pub fn negotiate(accept: Option<&str>) -> Self {
        match accept {
            Some(accept) if accept.contains("application/openmetrics-text") => Self::OpenMetrics,
            _ => Self::Text,
        }
    }

    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Text => TEXT_CONTENT_TYPE,
            Self::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }
}

impl Metrics {
    /// Every family, in `format`.
    pub fn encode(&self, format: Format) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let written = match format {
            Format::Text => prometheus_text::encode(&mut out, &self.registry),
            Format::OpenMetrics => text::encode(&mut out, &self.registry),
        };
        // Writing into a String cannot fail; an encoder error would be a
        // bug in a label value's encoding, and a partial page is still the
        // best answer to a scrape.
        debug_assert!(written.is_ok(), "encoding metrics failed");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_only_when_asked_for() {
        assert_eq!(Format::negotiate(None), Format::Text);
        assert_eq!(Format::negotiate(Some("text/plain")), Format::Text);
        assert_eq!(
            Format::negotiate(Some(
                "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
            )),
            Format::OpenMetrics
        );
    }

    #[test]
    fn both_formats_carry_the_families() {
        let metrics = Metrics::new();
        metrics.zookeeper.reconnected();
        let text = metrics.encode(Format::Text);
        assert!(text.contains("# TYPE strand_zookeeper_reconnects_total counter"));
        assert!(text.contains("strand_zookeeper_reconnects_total 1\n"));
        let open = metrics.encode(Format::OpenMetrics);
        assert!(open.contains("strand_zookeeper_reconnects_total 1\n"));
        assert!(open.ends_with("# EOF\n"));
    }
}
