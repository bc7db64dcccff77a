//! Bookkeeping histories: [`ControllerHistory`] (`/<C>/CONTROLLER/HISTORY`) and
//! [`ParticipantHistory`] (`/<C>/INSTANCES/<I>/HISTORY`). Entries are Java
//! `Map.toString()` strings such as `{DATE=…, CONTROLLER=ctrl, VERSION=2.0.1, TIME=…}`.

use indexmap::IndexMap;

use super::typed_record;
use crate::java;
use crate::session::SessionId;
use crate::znrecord::ZNRecord;

/// Keys of the history records (Helix spellings).
pub mod keys {
    /// LF of entries (both records).
    pub const HISTORY: &str = "HISTORY";
    /// LF of maintenance entries (controller).
    pub const MAINTENANCE_HISTORY: &str = "MAINTENANCE_HISTORY";
    /// LF of management-mode entries (controller).
    pub const MANAGEMENT_MODE_HISTORY: &str = "MANAGEMENT_MODE_HISTORY";
    /// LF of offline dates (participant).
    pub const OFFLINE: &str = "OFFLINE";
    /// SF last offline time in ms, `-1` while online (participant).
    pub const LAST_OFFLINE_TIME: &str = "LAST_OFFLINE_TIME";
}

/// Entry keys.
const CONTROLLER: &str = "CONTROLLER";
const TIME: &str = "TIME";
const DATE: &str = "DATE";
const VERSION: &str = "VERSION";
const SESSION: &str = "SESSION";
const HOST: &str = "HOST";

/// The fixed id of the controller history record.
pub const CONTROLLER_HISTORY_ID: &str = "HISTORY";

/// Leader entries kept (Helix's `HISTORY_SIZE` for controllers).
const CONTROLLER_HISTORY_SIZE: usize = 10;
/// Session and offline entries kept for a participant.
const PARTICIPANT_HISTORY_SIZE: usize = 20;

typed_record! {
    /// ControllerHistory (id `HISTORY`): LF `<cluster>` (legacy list of leader names)
    /// and LF `HISTORY` (leader entries), 10 of each kept.
    ControllerHistory
}

impl ControllerHistory {
    /// What cluster creation writes: id `HISTORY`, LF `<cluster>` = `[]`.
    pub fn new(cluster: &str) -> Self {
        let mut record = ZNRecord::new(CONTROLLER_HISTORY_ID);
        record.set_list(cluster, Vec::<String>::new());
        ControllerHistory::from(record)
    }

    /// Record that `controller` became leader at `now_ms` (UTC dates), as Helix's
    /// `updateHistory` does: append to both lists, keeping the newest 10.
    pub fn record_leader(&mut self, cluster: &str, controller: &str, now_ms: i64, version: &str) {
        push_bounded(
            self.record_mut().list_mut(cluster),
            controller.to_string(),
            CONTROLLER_HISTORY_SIZE,
        );
        let entry = java_map_string(&java::hashmap_of([
            (CONTROLLER, controller.to_string()),
            (TIME, now_ms.to_string()),
            (DATE, format_utc(now_ms, DateStyle::Controller)),
            (VERSION, version.to_string()),
        ]));
        push_bounded(
            self.record_mut().list_mut(keys::HISTORY),
            entry,
            CONTROLLER_HISTORY_SIZE,
        );
    }

    /// The legacy leader-name list for a cluster.
    pub fn leaders(&self, cluster: &str) -> &[String] {
        self.0.list(cluster).unwrap_or_default()
    }

    /// `HISTORY` entries, parsed (oldest first).
    pub fn entries(&self) -> Vec<IndexMap<String, String>> {
        parse_entries(self.0.list(keys::HISTORY))
    }
}

typed_record! {
    /// ParticipantHistory (id = instance): LF `HISTORY` (session entries), LF
    /// `OFFLINE` (dates), SF `LAST_OFFLINE_TIME` (`-1` while online).
    ParticipantHistory
}

impl ParticipantHistory {
    /// An empty history (what instance creation writes).
    pub fn new(instance: impl Into<String>) -> Self {
        ParticipantHistory::from(ZNRecord::new(instance))
    }

    /// Record a new online session (Helix's `reportOnline`): append a session entry
    /// (newest 20 kept) and set `LAST_OFFLINE_TIME` to `-1`.
    pub fn report_online(&mut self, session: SessionId, now_ms: i64, version: &str, host: &str) {
        let entry = java_map_string(&java::hashmap_of([
            (SESSION, session.to_string()),
            (VERSION, version.to_string()),
            (TIME, now_ms.to_string()),
            (DATE, format_utc(now_ms, DateStyle::Participant)),
            (HOST, host.to_string()),
        ]));
        push_bounded(
            self.record_mut().list_mut(keys::HISTORY),
            entry,
            PARTICIPANT_HISTORY_SIZE,
        );
        self.record_mut().set_simple(keys::LAST_OFFLINE_TIME, "-1");
    }

    /// Record going offline (Helix's `reportOffline`): `LAST_OFFLINE_TIME`=`now_ms` and
    /// the date appended to `OFFLINE` (newest 20 kept).
    pub fn report_offline(&mut self, now_ms: i64) {
        self.record_mut()
            .set_simple(keys::LAST_OFFLINE_TIME, now_ms.to_string());
        push_bounded(
            self.record_mut().list_mut(keys::OFFLINE),
            format_utc(now_ms, DateStyle::Participant),
            PARTICIPANT_HISTORY_SIZE,
        );
    }

    /// `LAST_OFFLINE_TIME` (`-1` while online).
    pub fn last_offline_time(&self) -> Option<i64> {
        self.0.simple_parsed(keys::LAST_OFFLINE_TIME)
    }

    /// `HISTORY` entries, parsed (oldest first).
    pub fn entries(&self) -> Vec<IndexMap<String, String>> {
        parse_entries(self.0.list(keys::HISTORY))
    }
}

fn push_bounded(list: &mut Vec<String>, item: String, max: usize) {
    list.push(item);
    if list.len() > max {
        let excess = list.len() - max;
        list.drain(..excess);
    }
}

/// Java `AbstractMap.toString()`: `{k1=v1, k2=v2}`.
pub fn java_map_string(map: &IndexMap<String, String>) -> String {
    let body: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", body.join(", "))
}

/// Parse a Java `Map.toString()` string (values must not contain `", "`).
pub fn parse_java_map_string(text: &str) -> Option<IndexMap<String, String>> {
    let body = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    if body.is_empty() {
        return Some(IndexMap::new());
    }
    body.split(", ")
        .map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

fn parse_entries(list: Option<&[String]>) -> Vec<IndexMap<String, String>> {
    list.unwrap_or_default()
        .iter()
        .filter_map(|e| parse_java_map_string(e))
        .collect()
}

/// The date patterns Helix uses in histories and status updates.
#[derive(Clone, Copy)]
pub(crate) enum DateStyle {
    /// `yyyy-MM-dd-HH:mm:ss`.
    Controller,
    /// `yyyy-MM-dd'T'HH:mm:ss:SSS`.
    Participant,
    /// `yyyyMMdd-HHmmss.SSSSSS` (`StatusUpdateUtil`; Java's `SSSSSS` is the
    /// milliseconds, zero-padded to six digits).
    StatusUpdate,
}

/// Format epoch milliseconds as a UTC date in one of Helix's patterns.
pub(crate) fn format_utc(ms: i64, style: DateStyle) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    match style {
        DateStyle::Controller => {
            format!("{year:04}-{month:02}-{day:02}-{h:02}:{m:02}:{s:02}")
        }
        DateStyle::Participant => {
            format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}:{millis:03}")
        }
        DateStyle::StatusUpdate => {
            format!("{year:04}{month:02}{day:02}-{h:02}{m:02}{s:02}.{millis:06}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controller_entry_matches_dump() {
        let mut h = ControllerHistory::new("DEMO_");
        h.record_leader("DEMO_", "controller0", 1_795_303_249_382, "2.0.1");
        assert_eq!(h.leaders("DEMO_"), ["controller0"]);
        assert_eq!(
            h.record().list(keys::HISTORY).unwrap_or_default(),
            [
                "{DATE=2026-11-21-23:20:49, CONTROLLER=controller0, VERSION=2.0.1, TIME=1795303249382}"
            ]
        );
        for i in 0..15 {
            h.record_leader("DEMO_", &format!("c{i}"), 0, "2.0.1");
        }
        assert_eq!(h.leaders("DEMO_").len(), 10);
        assert_eq!(h.entries().len(), 10);
        assert_eq!(
            h.entries()[9].get("CONTROLLER").map(String::as_str),
            Some("c14")
        );
    }

    #[test]
    fn participant_entries_match_dump() {
        let mut h = ParticipantHistory::new("localhost_12003");
        h.report_online(
            SessionId(0x1000021f98d0008),
            1_795_303_245_768,
            "2.0.1",
            "vm",
        );
        assert_eq!(h.last_offline_time(), Some(-1));
        assert_eq!(
            h.record().list(keys::HISTORY).unwrap_or_default(),
            [
                "{DATE=2026-11-21T23:20:45:768, VERSION=2.0.1, HOST=vm, SESSION=1000021f98d0008, TIME=1795303245768}"
            ]
        );
        h.report_offline(1_795_303_274_297);
        assert_eq!(h.last_offline_time(), Some(1_795_303_274_297));
        assert_eq!(
            h.record().list(keys::OFFLINE).unwrap_or_default(),
            ["2026-11-21T23:21:14:297"]
        );
        assert_eq!(
            h.entries()[0].get("SESSION").map(String::as_str),
            Some("1000021f98d0008")
        );
    }

    #[test]
    fn dates() {
        assert_eq!(
            format_utc(0, DateStyle::Participant),
            "1970-01-01T00:00:00:000"
        );
        assert_eq!(
            format_utc(951_782_400_000, DateStyle::Controller),
            "2000-02-29-00:00:00"
        );
        assert_eq!(parse_java_map_string("{}").map(|m| m.len()), Some(0));
        assert!(parse_java_map_string("nope").is_none());
    }
}
