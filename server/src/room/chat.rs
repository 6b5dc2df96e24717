//! Room chat, private messages, the "please check in with me" signal and reactions.
//! Imports no tokio, no media, no network.
//!
//! Chat lives in this value only: a bounded history so a reconnecting phone keeps the
//! thread, dropped with the room. A newcomer reads only what is said after they arrive,
//! unless the facilitators turn `share_earlier_chat` on (`view.rs`). Private messages are delivered and not kept at all.
//! Messages to the facilitators work even when chat is off or the room is suspended: a
//! member in distress must always be able to reach them.

use std::time::Instant;

use super::{
    ChatView, Effect, MessageId, ParticipantId, PrivateView, Reaction, Room, RoomError, RoomEvent,
};

pub const MAX_MESSAGE_CHARS: usize = 1000;
/// In an encrypted meeting a message is the page's base64url ciphertext (web/js/e2ee/chat.js)
/// of at most [`MAX_MESSAGE_CHARS`] characters of text: up to 4 UTF-8 bytes each, padded
/// with at least one byte to a multiple of 32, after a 15-byte prefix, before a 16-byte tag.
pub const MAX_SEALED_MESSAGE_CHARS: usize = {
    let padded = (4 * MAX_MESSAGE_CHARS + 1).div_ceil(32) * 32;
    ((15 + padded + 16) * 4).div_ceil(3)
};
/// Room chat messages kept for reconnecting phones (and late joiners, when shared).
const HISTORY: usize = 200;

/// Plain text up to [`MAX_MESSAGE_CHARS`]; in an encrypted meeting, only ciphertext: base64url
/// within [`MAX_SEALED_MESSAGE_CHARS`] (a page without the key cannot post in clear).
fn check_text(text: &str, e2ee: bool) -> Result<(), RoomError> {
    if text.trim().is_empty() {
        return Err(RoomError::EmptyMessage);
    }
    if e2ee {
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(RoomError::MessageNotEncrypted);
        }
        if text.len() > MAX_SEALED_MESSAGE_CHARS {
            return Err(RoomError::MessageTooLong);
        }
    } else if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(RoomError::MessageTooLong);
    }
    Ok(())
}

impl Room {
    /// Facilitators are not rate limited (they may paste a reading); everyone else is,
    /// and the token is taken last so a refused message costs nothing.
    fn take_message_token(&mut self, now: Instant, from: ParticipantId) -> Result<(), RoomError> {
        let p = self.get_mut(from).ok_or(RoomError::UnknownParticipant)?;
        if p.role.is_staff() || p.messages.try_take(now) {
            Ok(())
        } else {
            Err(RoomError::RateLimited)
        }
    }

    pub(super) fn chat(
        &mut self,
        now: Instant,
        from: ParticipantId,
        text: String,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        let p = self.get(from).ok_or(RoomError::UnknownParticipant)?;
        // Chat off silences members; facilitators can still post (e.g. "we are back soon").
        if !self.settings.chat_enabled && !p.role.is_staff() {
            return Err(RoomError::ChatDisabled);
        }
        check_text(&text, self.settings.e2ee)?;
        let (public_id, name, role) = (p.public_id.clone(), p.name.clone(), p.role);
        self.take_message_token(now, from)?;
        let id = MessageId(self.next_message_id);
        self.next_message_id += 1;
        let msg = ChatView {
            id,
            from: public_id,
            name,
            role,
            text,
        };
        if self.chat.len() >= HISTORY {
            self.chat.pop_front();
        }
        self.chat.push_back(msg.clone());
        out.push(Effect::Broadcast {
            event: RoomEvent::ChatMessage(msg),
            except: None,
        });
        Ok(())
    }

    /// Facilitators delete any message; a member only their own.
    pub(super) fn delete_chat(
        &mut self,
        from: ParticipantId,
        id: MessageId,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        let p = self.get(from).ok_or(RoomError::UnknownParticipant)?;
        let i = self
            .chat
            .iter()
            .position(|m| m.id == id)
            .ok_or(RoomError::UnknownMessage)?;
        if !p.role.is_staff() && self.chat[i].from != p.public_id {
            return Err(RoomError::NotPermitted);
        }
        self.chat.remove(i);
        out.push(Effect::Broadcast {
            event: RoomEvent::ChatDeleted { id },
            except: None,
        });
        Ok(())
    }

    pub(super) fn message_facilitators(
        &mut self,
        now: Instant,
        from: ParticipantId,
        text: String,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        let p = self.get(from).ok_or(RoomError::UnknownParticipant)?;
        check_text(&text, self.settings.e2ee)?;
        let staff = p.role.is_staff();
        let view = PrivateView {
            from: p.public_id.clone(),
            from_name: p.name.clone(),
            from_role: p.role,
            to: None,
            text,
        };
        self.take_message_token(now, from)?;
        // Staff get it through ToFacilitators already; a member gets an echo.
        if !staff {
            out.push(Effect::Send {
                to: from,
                event: RoomEvent::PrivateMessage(view.clone()),
            });
        }
        out.push(Effect::ToFacilitators {
            event: RoomEvent::PrivateMessage(view),
        });
        Ok(())
    }

    pub(super) fn request_check_in(
        &mut self,
        now: Instant,
        from: ParticipantId,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        let p = self.get(from).ok_or(RoomError::UnknownParticipant)?;
        let event = RoomEvent::CheckInRequested {
            from: p.public_id.clone(),
            name: p.name.clone(),
        };
        self.take_message_token(now, from)?;
        out.push(Effect::ToFacilitators { event });
        Ok(())
    }

    /// Facilitators may message anyone, anyone may message a facilitator; member to
    /// member only when the room allows it and chat is on.
    pub(super) fn private_message(
        &mut self,
        now: Instant,
        from: ParticipantId,
        to: ParticipantId,
        text: String,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        let p = self.get(from).ok_or(RoomError::UnknownParticipant)?;
        let target = self.get(to).ok_or(RoomError::UnknownParticipant)?;
        if !p.role.is_staff() && !target.role.is_staff() {
            if !self.settings.member_private_messages {
                return Err(RoomError::PrivateMessagesDisabled);
            }
            if !self.settings.chat_enabled {
                return Err(RoomError::ChatDisabled);
            }
        }
        check_text(&text, self.settings.e2ee)?;
        let view = PrivateView {
            from: p.public_id.clone(),
            from_name: p.name.clone(),
            from_role: p.role,
            to: Some(target.public_id.clone()),
            text,
        };
        self.take_message_token(now, from)?;
        out.push(Effect::Send {
            to,
            event: RoomEvent::PrivateMessage(view.clone()),
        });
        if to != from {
            out.push(Effect::Send {
                to: from,
                event: RoomEvent::PrivateMessage(view),
            });
        }
        Ok(())
    }

    /// Rate limited for everyone, facilitators too: reactions are ambient, not speech.
    pub(super) fn react(
        &mut self,
        now: Instant,
        from: ParticipantId,
        reaction: Reaction,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        let suspended = self.suspended.is_some();
        let p = self.get_mut(from).ok_or(RoomError::UnknownParticipant)?;
        if suspended && !p.role.is_staff() {
            return Err(RoomError::RoomSuspended);
        }
        if !p.reactions.try_take(now) {
            return Err(RoomError::RateLimited);
        }
        let event = RoomEvent::Reaction {
            from: p.public_id.clone(),
            reaction,
        };
        out.push(Effect::Broadcast {
            event,
            except: None,
        });
        Ok(())
    }
}
