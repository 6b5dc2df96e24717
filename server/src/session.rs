//! One WebSocket session: decodes client messages, checks what can be checked without the
//! room (size, JSON shape, order), and relays to the hub; writes the hub's and the media
//! loop's messages back in order. Knows nothing of str0m.

use std::net::IpAddr;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use tokio::sync::mpsc;

use crate::hub::{HubCommand, HubHandle, JoinRequest, OUTBOX_CAPACITY};
use crate::media::{MediaSignal, PeerKey};
use crate::protocol::{ClientMessage, ServerMessage, PROTOCOL_VERSION};

pub async fn run(mut socket: WebSocket, hub: HubHandle, max_message_bytes: usize, addr: Option<IpAddr>) {
    let (outbox, mut outbox_rx) = mpsc::channel::<ServerMessage>(OUTBOX_CAPACITY);
    let (signals, mut signals_rx) = mpsc::unbounded_channel::<MediaSignal>();
    let mut session = Session { hub, outbox, signals, peer: None, addr };

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
    /// Only ever hashed with a per-meeting salt for bans; never logged or stored.
    addr: Option<IpAddr>,
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
                ClientMessage::Join { room, name, key, token, accepted_guidelines, request_id } => {
                    let request = JoinRequest {
                        room,
                        name,
                        key,
                        token,
                        accepted_guidelines,
                        request_id: request_id.clone(),
                        addr: self.addr,
                        outbox: self.outbox.clone(),
                    };
                    self.join(request, request_id).await
                }
                _ => Some(error("not_joined", "Join a meeting first.", None)),
            };
        };
        match message {
            ClientMessage::Join { request_id, .. } => {
                Some(error("already_joined", "You are already in this meeting.", request_id))
            }
            ClientMessage::Offer { sdp } => {
                let signals = self.signals.clone();
                self.hub.send(HubCommand::Offer { peer, sdp, signals });
                None
            }
            ClientMessage::Answer { sdp } => {
                self.hub.send(HubCommand::Answer { peer, sdp });
                None
            }
            ClientMessage::Leave {} => {
                self.finish();
                Some(ServerMessage::closed("left", "You left the meeting."))
            }
            message => {
                self.hub.send(HubCommand::Room { peer, message });
                None
            }
        }
    }

    async fn join(&mut self, request: JoinRequest, request_id: Option<String>) -> Option<ServerMessage> {
        match self.hub.ask(|reply| HubCommand::Join { request, reply }).await {
            Some(Ok(peer)) => {
                self.peer = Some(peer);
                None // `joined` or `waiting` arrives through the outbox, ahead of any event.
            }
            Some(Err(refusal)) => Some(error(refusal.code, refusal.message, request_id)),
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
