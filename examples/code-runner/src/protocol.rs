//! How a program travels between the client and a runner: Helix messages
//! in the cluster's property store.
//!
//! ```text
//! /<C>/PROPERTYSTORE/CODE_RUNNER/PROGRAMS/<sha256>            raw component bytes (written once)
//! /<C>/PROPERTYSTORE/CODE_RUNNER/INPUTS/<sha256>              raw stdin bytes (when not empty)
//! /<C>/PROPERTYSTORE/CODE_RUNNER/REQUESTS/<instance>/<msgId>  USER_DEFINE_MSG / RUN_PROGRAM
//! /<C>/PROPERTYSTORE/CODE_RUNNER/REPLIES/<correlationId>/<instance>  TASK_REPLY
//! ```
//!
//! A request is a Helix `Message` (`MSG_TYPE` `USER_DEFINE_MSG`,
//! `MSG_SUBTYPE` `RUN_PROGRAM`, `SRC_NAME`, `TGT_NAME`, `TGT_SESSION_ID` =
//! the runner's live session, `CORRELATION_ID`), plus `PROGRAM_SHA256`,
//! `INPUT_SHA256`, `DEADLINE_MS` and the list field `ARGS`. A reply is a
//! `TASK_REPLY` message with the same `CORRELATION_ID` and the result in
//! the map field `MESSAGE_RESULT`, as Helix's messaging service shapes
//! replies. Requests do not go to `INSTANCES/<I>/MESSAGES`: that queue
//! belongs to the participant's state-transition engine, which discards
//! message types it does not serve.

use std::time::Duration;

use sha2::{Digest, Sha256};
use strand_model::records::message::keys as msg;
use strand_model::{Message, MessageType, PropertyPaths, SessionId, ZNRecord};
use strand_plugin_host::{CommandOutput, CommandStatus};

/// The resource every runner serves ONLINE (one partition, every tagged
/// live instance): being ONLINE for it is how a runner advertises itself.
pub const RESOURCE: &str = "CODE_RUNNER";
/// The resource's one partition.
pub const PARTITION: &str = "CODE_RUNNER_0";
/// The instance tag runners carry; the resource is restricted to it.
pub const TAG: &str = "code-runner";
/// The state in which a runner takes programs.
pub const ONLINE: &str = "ONLINE";
/// `MSG_SUBTYPE` of a request.
pub const RUN_PROGRAM: &str = "RUN_PROGRAM";

const PROGRAM_SHA256: &str = "PROGRAM_SHA256";
const INPUT_SHA256: &str = "INPUT_SHA256";
const DEADLINE_MS: &str = "DEADLINE_MS";
const ARGS: &str = "ARGS";

/// The code runner's znodes in one cluster.
#[derive(Debug, Clone)]
pub struct Paths {
    root: String,
}

impl Paths {
    /// The paths of `cluster`.
    pub fn new(cluster: &str) -> Self {
        Self {
            root: format!(
                "{}/CODE_RUNNER",
                PropertyPaths::new(cluster).property_store()
            ),
        }
    }

    /// A program's bytes.
    pub fn program(&self, sha256: &str) -> String {
        format!("{}/PROGRAMS/{sha256}", self.root)
    }

    /// Stdin bytes.
    pub fn input(&self, sha256: &str) -> String {
        format!("{}/INPUTS/{sha256}", self.root)
    }

    /// One runner's inbox.
    pub fn requests(&self, instance: &str) -> String {
        format!("{}/REQUESTS/{instance}", self.root)
    }

    /// One request.
    pub fn request(&self, instance: &str, msg_id: &str) -> String {
        format!("{}/{msg_id}", self.requests(instance))
    }

    /// The replies to one submission.
    pub fn replies(&self, correlation_id: &str) -> String {
        format!("{}/REPLIES/{correlation_id}", self.root)
    }

    /// One runner's reply.
    pub fn reply(&self, correlation_id: &str, instance: &str) -> String {
        format!("{}/{instance}", self.replies(correlation_id))
    }
}

/// The lowercase hex sha256 of `bytes` (how programs and inputs are named).
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A request to run a program, as a runner reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest {
    /// `MSG_ID`.
    pub msg_id: String,
    /// Who sent it.
    pub source: String,
    /// `CORRELATION_ID`: where the reply goes.
    pub correlation_id: String,
    /// The program's sha256.
    pub program: String,
    /// Stdin's sha256, if any.
    pub input: Option<String>,
    /// Program arguments (after argv\[0\]).
    pub args: Vec<String>,
    /// How long the program may run.
    pub deadline: Duration,
    /// The runner session it was addressed to.
    pub target_session: Option<String>,
}

impl RunRequest {
    /// The Helix message for this request to `target` on `session`.
    pub fn to_message(&self, target: &str, session: &str, now_ms: i64) -> Message {
        let mut m = Message::new(&MessageType::UserDefineMsg, &self.msg_id, now_ms);
        let r = m.record_mut();
        r.set_simple(msg::MSG_SUBTYPE, RUN_PROGRAM);
        r.set_simple(msg::SRC_NAME, &self.source);
        r.set_simple(msg::TGT_NAME, target);
        r.set_simple(msg::TGT_SESSION_ID, session);
        r.set_simple(msg::CORRELATION_ID, &self.correlation_id);
        r.set_simple(PROGRAM_SHA256, &self.program);
        if let Some(input) = &self.input {
            r.set_simple(INPUT_SHA256, input);
        }
        r.set_simple(DEADLINE_MS, self.deadline.as_millis().to_string());
        r.set_list(ARGS, self.args.iter().cloned());
        m
    }

    /// Reads a request message; `Err` names what is missing or wrong.
    pub fn from_message(m: &Message) -> Result<Self, String> {
        if m.msg_type() != Some(MessageType::UserDefineMsg) || m.msg_subtype() != Some(RUN_PROGRAM)
        {
            return Err(format!(
                "not a {RUN_PROGRAM} request (MSG_TYPE {:?}, MSG_SUBTYPE {:?})",
                m.record().simple(msg::MSG_TYPE),
                m.msg_subtype()
            ));
        }
        let r = m.record();
        let field = |key: &str| {
            r.simple(key)
                .map(str::to_owned)
                .ok_or_else(|| format!("missing {key}"))
        };
        let program = field(PROGRAM_SHA256)?;
        if program.len() != 64 || !program.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("{PROGRAM_SHA256} is not a sha256: {program:?}"));
        }
        let deadline_ms: u64 = field(DEADLINE_MS)?
            .parse()
            .map_err(|_| format!("{DEADLINE_MS} is not a number"))?;
        Ok(Self {
            msg_id: m.msg_id().to_owned(),
            source: field(msg::SRC_NAME)?,
            correlation_id: field(msg::CORRELATION_ID)?,
            program,
            input: r.simple(INPUT_SHA256).map(str::to_owned),
            args: r.list(ARGS).map(<[String]>::to_vec).unwrap_or_default(),
            deadline: Duration::from_millis(deadline_ms),
            target_session: m.tgt_session_id().map(str::to_owned),
        })
    }

    /// True when the request was addressed to `session`.
    pub fn is_for_session(&self, session: SessionId) -> bool {
        self.target_session
            .as_deref()
            .and_then(|s| SessionId::parse(s).ok())
            .is_some_and(|s| s == session)
    }
}

/// What a runner reports back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReply {
    /// The runner.
    pub instance: String,
    /// Did it run, and how did it end: `Ok` with the status text and
    /// success flag, or `Err` with why it could not run.
    pub outcome: Result<(bool, String), String>,
    /// Standard output (lossy UTF-8).
    pub stdout: String,
    /// Standard error (lossy UTF-8).
    pub stderr: String,
    /// How long the program ran, in ms.
    pub elapsed_ms: u64,
}

const RESULT_STATUS: &str = "STATUS";
const RESULT_SUCCESS: &str = "SUCCESS";
const RESULT_ERROR: &str = "ERROR";
const RESULT_STDOUT: &str = "STDOUT";
const RESULT_STDERR: &str = "STDERR";
const RESULT_ELAPSED_MS: &str = "ELAPSED_MS";

impl RunReply {
    /// The reply to a program that ran.
    pub fn ran(instance: &str, output: &CommandOutput) -> Self {
        Self {
            instance: instance.to_owned(),
            outcome: Ok((output.status.success(), describe(&output.status))),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed_ms: u64::try_from(output.elapsed.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The reply to a request that could not run.
    pub fn refused(instance: &str, reason: impl Into<String>) -> Self {
        Self {
            instance: instance.to_owned(),
            outcome: Err(reason.into()),
            stdout: String::new(),
            stderr: String::new(),
            elapsed_ms: 0,
        }
    }

    /// The `TASK_REPLY` message answering `request`.
    pub fn to_message(&self, request: &RunRequest, now_ms: i64) -> Message {
        let id = uuid::Uuid::new_v4().to_string();
        let mut m = Message::new(&MessageType::TaskReply, &id, now_ms);
        let r = m.record_mut();
        r.set_simple(msg::SRC_NAME, &self.instance);
        r.set_simple(msg::TGT_NAME, &request.source);
        r.set_simple(msg::CORRELATION_ID, &request.correlation_id);
        let result = r.map_mut(msg::MESSAGE_RESULT);
        match &self.outcome {
            Ok((success, status)) => {
                result.insert(RESULT_SUCCESS.into(), success.to_string());
                result.insert(RESULT_STATUS.into(), status.clone());
            }
            Err(reason) => {
                result.insert(RESULT_SUCCESS.into(), "false".into());
                result.insert(RESULT_ERROR.into(), reason.clone());
            }
        }
        result.insert(RESULT_STDOUT.into(), self.stdout.clone());
        result.insert(RESULT_STDERR.into(), self.stderr.clone());
        result.insert(RESULT_ELAPSED_MS.into(), self.elapsed_ms.to_string());
        m
    }

    /// Reads a reply record written by `instance`.
    pub fn from_record(instance: &str, record: &ZNRecord) -> Result<Self, String> {
        let result = record
            .map(msg::MESSAGE_RESULT)
            .ok_or_else(|| format!("reply from {instance} has no {}", msg::MESSAGE_RESULT))?;
        let get = |k: &str| result.get(k).cloned().unwrap_or_default();
        let outcome = match result.get(RESULT_ERROR) {
            Some(reason) => Err(reason.clone()),
            None => Ok((get(RESULT_SUCCESS) == "true", get(RESULT_STATUS))),
        };
        Ok(Self {
            instance: instance.to_owned(),
            outcome,
            stdout: get(RESULT_STDOUT),
            stderr: get(RESULT_STDERR),
            elapsed_ms: get(RESULT_ELAPSED_MS).parse().unwrap_or(0),
        })
    }

    /// True when the program ran and succeeded.
    pub fn success(&self) -> bool {
        matches!(self.outcome, Ok((true, _)))
    }
}

fn describe(status: &CommandStatus) -> String {
    status.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> RunRequest {
        RunRequest {
            msg_id: "m1".into(),
            source: "client-1".into(),
            correlation_id: "c1".into(),
            program: sha256(b"program"),
            input: Some(sha256(b"input")),
            args: vec!["a".into(), "b c".into()],
            deadline: Duration::from_millis(1500),
            target_session: None,
        }
    }

    #[test]
    fn requests_round_trip_through_helix_messages() {
        let session = SessionId::from_i64(0x1234);
        let m = request().to_message("host_1", &session.to_string(), 1);
        assert_eq!(m.msg_type(), Some(MessageType::UserDefineMsg));
        assert_eq!(m.tgt_name(), Some("host_1"));
        let back = RunRequest::from_message(&m).expect("parses");
        assert!(back.is_for_session(session));
        assert!(!back.is_for_session(SessionId::from_i64(0x999)));
        assert_eq!(
            RunRequest {
                target_session: None,
                ..back
            },
            request()
        );
    }

    #[test]
    fn malformed_requests_are_named() {
        let mut m = request().to_message("h", "1", 1);
        m.record_mut().set_simple(PROGRAM_SHA256, "../../etc");
        assert!(RunRequest::from_message(&m).is_err_and(|e| e.contains("not a sha256")));
        let other = Message::new(&MessageType::StateTransition, "x", 1);
        assert!(RunRequest::from_message(&other).is_err());
    }

    #[test]
    fn replies_round_trip() {
        let reply = RunReply::refused("host_1", "no such program");
        let m = reply.to_message(&request(), 1);
        assert_eq!(m.record().simple(msg::CORRELATION_ID), Some("c1"));
        assert_eq!(RunReply::from_record("host_1", m.record()), Ok(reply));
    }
}
