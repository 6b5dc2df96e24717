//! The signaling wire format: one enum per direction, JSON tagged by `type`.
//! Imports nothing from the rest of the crate; `docs/protocol.md` documents every message and
//! the tests at the bottom pin each one's JSON.

use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change; sent in `hello`.
pub const PROTOCOL_VERSION: u32 = 1;

/// A participant's anonymous id, valid for one meeting only.
pub type PublicId = String;

/// Messages a client sends.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Enter a room. `key` is the facilitator secret from the link's fragment, if any.
    Join {
        room: String,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
    /// The browser's one and only offer, sent after `joined`.
    Offer { sdp: String },
    /// The browser's answer to a server `offer`.
    Answer { sdp: String },
    /// What the browser is sending, so others can show a muted mic or a camera tile.
    MediaState { audio: bool, video: bool },
    Leave {},
}

/// Messages the server sends.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Hello {
        version: u32,
        server: String,
    },
    Joined {
        you: Participant,
        room: RoomInfo,
        participants: Vec<Participant>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
    ParticipantJoined {
        participant: Participant,
    },
    ParticipantUpdated {
        participant: Participant,
    },
    ParticipantLeft {
        id: PublicId,
    },
    /// The server's answer to the browser's first offer.
    Answer {
        sdp: String,
    },
    /// A renegotiation: tracks were added or removed. The browser must answer.
    Offer {
        sdp: String,
    },
    /// The server is closing this session (meeting ended, removed, server stopping).
    Closed {
        code: String,
        message: String,
    },
    Error {
        code: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Participant {
    pub id: PublicId,
    pub name: String,
    /// Whether the participant's microphone is on.
    pub audio: bool,
    /// Whether the participant's camera is on.
    pub video: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RoomInfo {
    pub id: String,
    pub title: String,
}

impl ServerMessage {
    pub fn error(code: &str, message: impl Into<String>, request_id: Option<String>) -> Self {
        ServerMessage::Error {
            code: code.to_string(),
            message: message.into(),
            request_id,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(json: &str, expected: ClientMessage) {
        let parsed: ClientMessage = serde_json::from_str(json).unwrap();
        assert_eq!(parsed, expected);
        assert_eq!(serde_json::to_string(&expected).unwrap(), json);
    }

    fn server(json: &str, expected: ServerMessage) {
        assert_eq!(expected.to_json(), json);
        let parsed: ServerMessage = serde_json::from_str(json).unwrap();
        assert_eq!(parsed, expected);
    }

    fn sam() -> Participant {
        Participant { id: "p7f3a".into(), name: "Sam".into(), audio: false, video: true }
    }

    #[test]
    fn join_json() {
        client(
            r#"{"type":"join","room":"tuesday","name":"Sam","request_id":"1"}"#,
            ClientMessage::Join {
                room: "tuesday".into(),
                name: "Sam".into(),
                key: None,
                request_id: Some("1".into()),
            },
        );
        client(
            r#"{"type":"join","room":"tuesday","name":"Sam","key":"s3cret"}"#,
            ClientMessage::Join {
                room: "tuesday".into(),
                name: "Sam".into(),
                key: Some("s3cret".into()),
                request_id: None,
            },
        );
    }

    #[test]
    fn offer_answer_json() {
        client(r#"{"type":"offer","sdp":"v=0"}"#, ClientMessage::Offer { sdp: "v=0".into() });
        client(r#"{"type":"answer","sdp":"v=0"}"#, ClientMessage::Answer { sdp: "v=0".into() });
        server(r#"{"type":"offer","sdp":"v=0"}"#, ServerMessage::Offer { sdp: "v=0".into() });
        server(r#"{"type":"answer","sdp":"v=0"}"#, ServerMessage::Answer { sdp: "v=0".into() });
    }

    #[test]
    fn media_state_and_leave_json() {
        client(
            r#"{"type":"media_state","audio":true,"video":false}"#,
            ClientMessage::MediaState { audio: true, video: false },
        );
        client(r#"{"type":"leave"}"#, ClientMessage::Leave {});
    }

    #[test]
    fn unknown_fields_and_types_are_refused() {
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"leave","x":1}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"dance"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"join","room":1}"#).is_err());
    }

    #[test]
    fn hello_json() {
        server(
            r#"{"type":"hello","version":1,"server":"haven/0.1.0"}"#,
            ServerMessage::Hello { version: 1, server: "haven/0.1.0".into() },
        );
    }

    #[test]
    fn joined_json() {
        server(
            r#"{"type":"joined","you":{"id":"p7f3a","name":"Sam","audio":false,"video":true},"room":{"id":"tuesday","title":"Tuesday evening"},"participants":[],"request_id":"1"}"#,
            ServerMessage::Joined {
                you: sam(),
                room: RoomInfo { id: "tuesday".into(), title: "Tuesday evening".into() },
                participants: vec![],
                request_id: Some("1".into()),
            },
        );
    }

    #[test]
    fn participant_events_json() {
        server(
            r#"{"type":"participant_joined","participant":{"id":"p7f3a","name":"Sam","audio":false,"video":true}}"#,
            ServerMessage::ParticipantJoined { participant: sam() },
        );
        server(
            r#"{"type":"participant_updated","participant":{"id":"p7f3a","name":"Sam","audio":false,"video":true}}"#,
            ServerMessage::ParticipantUpdated { participant: sam() },
        );
        server(
            r#"{"type":"participant_left","id":"p7f3a"}"#,
            ServerMessage::ParticipantLeft { id: "p7f3a".into() },
        );
    }

    #[test]
    fn closed_and_error_json() {
        server(
            r#"{"type":"closed","code":"server_stopping","message":"The server is restarting."}"#,
            ServerMessage::Closed {
                code: "server_stopping".into(),
                message: "The server is restarting.".into(),
            },
        );
        server(
            r#"{"type":"error","code":"unknown_room","message":"There is no meeting with that link.","request_id":"1"}"#,
            ServerMessage::error("unknown_room", "There is no meeting with that link.", Some("1".into())),
        );
    }
}
