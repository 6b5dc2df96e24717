//! One WebSocket session: decodes client messages, checks what can be checked without the
//! room (size, JSON shape, order), and relays to the hub; writes the hub's and the media
//! loop's messages back in order. Knows nothing of str0m.

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use tokio::sync::mpsc;

use crate::hub::{HubCommand, HubHandle, JoinRequest, OUTBOX_CAPACITY};
use crate::media::{MediaSignal, PeerKey};
use crate::protocol::{ClientMessage, ServerMessage, PROTOCOL_VERSION};

pub async fn run(mut socket: WebSocket, hub: HubHandle, max_message_bytes: usize) {
    let (outbox, mut outbox_rx) = mpsc::channel::<ServerMessage>(OUTBOX_CAPACITY);
    let (signals, mut signals_rx) = mpsc::unbounded_channel::<MediaSignal>();
    let mut session = Session { hub, outbox, signals, peer: None, offered: false };

    let hello = ServerMessage::Hello {
        version: PROTOCOL_VERSION,
        server: concat!("haven/", env!("CARGO_PKG_VERSION")).into(),
    };
    if send(&mut socket, &hello).await.is_err() {
        return;
    }
    loop {
        let reply = tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if text.len() > max_message_bytes {
                        Some(error("message_too_large", "That message is too large.", None))
                    } else {
                        session.handle_text(&text).await
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    Some(error("bad_message", "Messages must be JSON text.", None))
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            },
            outgoing = outbox_rx.recv() => match outgoing {
                Some(message) => Some(message),
                // The hub dropped us (too slow, or stopping).
                None => break,
            },
            Some(signal) = signals_rx.recv() => Some(match signal {
                MediaSignal::Answer(sdp) => ServerMessage::Answer { sdp },
                MediaSignal::Offer(sdp) => ServerMessage::Offer { sdp },
                MediaSignal::Refused(e) => error(e.code(), e.to_string(), None),
            }),
        };
        let Some(reply) = reply else { continue };
        let closing = matches!(reply, ServerMessage::Closed { .. });
        if send(&mut socket, &reply).await.is_err() || closing {
            break;
        }
    }
    session.finish();
    let _ = socket.send(Message::Close(None)).await;
}

struct Session {
    hub: HubHandle,
    outbox: mpsc::Sender<ServerMessage>,
    signals: mpsc::UnboundedSender<MediaSignal>,
    peer: Option<PeerKey>,
    offered: bool,
}

impl Session {
    async fn handle_text(&mut self, text: &str) -> Option<ServerMessage> {
        let message = match serde_json::from_str::<ClientMessage>(text) {
            Ok(message) => message,
            Err(e) => {
                // serde's sentence names the field or type at fault and never echoes values.
                let detail = e.to_string();
                return Some(error("bad_message", format!("That message was not understood: {detail}."), None));
            }
        };
        let Some(peer) = self.peer else {
            return match message {
                ClientMessage::Join { room, name, key, request_id } => {
                    self.join(room, name, key, request_id).await
                }
                _ => Some(error("not_joined", "Join a meeting first.", None)),
            };
        };
        match message {
            ClientMessage::Join { request_id, .. } => {
                Some(error("already_joined", "You are already in this meeting.", request_id))
            }
            ClientMessage::Offer { sdp } => {
                if self.offered {
                    return Some(error(
                        "negotiation_in_progress",
                        "The connection is already set up; only the server offers now.",
                        None,
                    ));
                }
                self.offered = true;
                let signals = self.signals.clone();
                self.hub.send(HubCommand::Offer { peer, sdp, signals });
                None
            }
            ClientMessage::Answer { sdp } => {
                self.hub.send(HubCommand::Answer { peer, sdp });
                None
            }
            ClientMessage::MediaState { audio, video } => {
                self.hub.send(HubCommand::MediaState { peer, audio, video });
                None
            }
            ClientMessage::Leave {} => {
                self.finish();
                Some(ServerMessage::Closed { code: "left".into(), message: "You left the meeting.".into() })
            }
        }
    }

    async fn join(
        &mut self,
        room: String,
        name: String,
        key: Option<String>,
        request_id: Option<String>,
    ) -> Option<ServerMessage> {
        let request = JoinRequest {
            room,
            name,
            key,
            request_id: request_id.clone(),
            outbox: self.outbox.clone(),
        };
        match self.hub.ask(|reply| HubCommand::Join { request, reply }).await {
            Some(Ok(peer)) => {
                self.peer = Some(peer);
                None // `joined` arrives through the outbox, ahead of any event about others.
            }
            Some(Err(e)) => Some(error(e.code(), e.to_string(), request_id)),
            None => Some(error("server_stopping", "The server is restarting.", request_id)),
        }
    }

    /// Leaves the meeting, once.
    fn finish(&mut self) {
        if let Some(peer) = self.peer.take() {
            self.hub.send(HubCommand::Leave { peer });
        }
    }
}

fn error(code: &str, message: impl Into<String>, request_id: Option<String>) -> ServerMessage {
    ServerMessage::error(code, message, request_id)
}

async fn send(socket: &mut WebSocket, message: &ServerMessage) -> Result<(), axum::Error> {
    socket.send(Message::Text(Utf8Bytes::from(message.to_json()))).await
}
