//! What clients and the SFU see of the room, and how a command's changes become effects:
//! observe before, observe after, emit the difference. Imports no tokio, no media, no
//! network.
//!
//! Diffing (rather than each handler emitting its own updates) is what guarantees that the
//! SFU's forwarding flags always equal the room's mic/camera state and its one screen
//! sharer, and that every client hears about every visible change.

use std::time::Instant;

use super::participant::Participant;
use super::{
    BanView, Effect, ParticipantId, ParticipantView, QueueEntry, Room, RoomEvent, RoomSnapshot, RoomStatus,
    ShownReading, WaiterView,
};

/// The visible state at one moment, compared across a command.
pub(super) struct Observation {
    views: Vec<(ParticipantId, ParticipantView)>,
    queue: Vec<QueueEntry>,
    status: RoomStatus,
    waiting: Vec<WaiterView>,
    bans: Vec<BanView>,
    shown_reading: Option<ShownReading>,
    screen: Option<ParticipantId>,
}

impl Observation {
    fn view(&self, id: ParticipantId) -> Option<&ParticipantView> {
        self.views.iter().find(|(i, _)| *i == id).map(|(_, v)| v)
    }

    /// What the SFU forwards of `id`'s: `(audio, video, screen)`.
    fn gates(&self, id: ParticipantId, v: &ParticipantView) -> (bool, bool, bool) {
        (v.mic_on, v.camera_on, self.screen == Some(id))
    }
}

impl Room {
    pub(super) fn observe(&self) -> Observation {
        Observation {
            views: self
                .participants
                .iter()
                .map(|p| (p.id, self.view_of(p)))
                .collect(),
            queue: self.queue_view(),
            status: self.status(),
            waiting: self.waiting_view(),
            bans: self.bans.view(),
            shown_reading: self.readings.shown.clone(),
            screen: self.screen,
        }
    }

    /// Orders the batch: SFU gates first (a mute is enforced before it is announced), then
    /// what the handler said, then arrivals, then state updates.
    pub(super) fn finish(
        &self,
        now: Instant,
        before: &Observation,
        said: Vec<Effect>,
    ) -> Vec<Effect> {
        let after = self.observe();
        let mut out = Vec::new();
        for (id, v) in &after.views {
            if let Some(b) = before.view(*id) {
                let (audio, video, screen) = after.gates(*id, v);
                if before.gates(*id, b) != (audio, video, screen) {
                    out.push(Effect::SetForwarding {
                        who: *id,
                        audio,
                        video,
                        screen,
                    });
                }
            }
        }
        out.extend(said);
        for (id, v) in &after.views {
            if before.view(*id).is_some() {
                continue;
            }
            out.push(Effect::Admitted { who: *id });
            let (audio, video, screen) = after.gates(*id, v);
            out.push(Effect::SetForwarding {
                who: *id,
                audio,
                video,
                screen,
            });
            if let Some(snapshot) = self.state_for(now, *id) {
                out.push(Effect::Send {
                    to: *id,
                    event: RoomEvent::Snapshot(Box::new(snapshot)),
                });
            }
            out.push(Effect::Broadcast {
                event: RoomEvent::ParticipantJoined(v.clone()),
                except: Some(*id),
            });
        }
        for (id, v) in &after.views {
            let Some(b) = before.view(*id) else { continue };
            if b == v {
                continue;
            }
            out.push(Effect::Broadcast {
                event: RoomEvent::ParticipantUpdated(v.clone()),
                except: None,
            });
            // A new co-facilitator needs the waiting list and bans they can now act on.
            if v.role.is_staff() && !b.role.is_staff() {
                let event = RoomEvent::WaitingListChanged {
                    waiting: after.waiting.clone(),
                };
                out.push(Effect::Send { to: *id, event });
                let event = RoomEvent::BansChanged {
                    bans: after.bans.clone(),
                };
                out.push(Effect::Send { to: *id, event });
            }
        }
        if after.queue != before.queue {
            let event = RoomEvent::QueueChanged { queue: after.queue };
            out.push(Effect::Broadcast {
                event,
                except: None,
            });
        }
        if after.status != before.status {
            out.push(Effect::Broadcast {
                event: RoomEvent::SettingsChanged(after.status),
                except: None,
            });
        }
        if after.shown_reading != before.shown_reading {
            let event = match after.shown_reading {
                Some(shown) => RoomEvent::ReadingShown(shown),
                None => RoomEvent::ReadingStopped,
            };
            out.push(Effect::Broadcast {
                event,
                except: None,
            });
        }
        if after.waiting != before.waiting {
            let event = RoomEvent::WaitingListChanged {
                waiting: after.waiting,
            };
            out.push(Effect::ToFacilitators { event });
        }
        if after.bans != before.bans {
            let event = RoomEvent::BansChanged { bans: after.bans };
            out.push(Effect::ToFacilitators { event });
        }
        out
    }

    pub(super) fn view_of(&self, p: &Participant) -> ParticipantView {
        ParticipantView {
            id: p.public_id.clone(),
            name: p.name.clone(),
            role: p.role,
            mic_on: p.mic_on,
            camera_on: p.camera_on,
            hand_raised: self.queue.contains(&p.id),
            has_floor: self.holds_floor(p.id),
            may_unmute: self.may_unmute(p),
            unmute_permission: p.unmute,
            muted_by_facilitator: self.is_held(p),
            camera_stopped: p.camera_stopped,
            may_share_screen: self.may_share_screen(p),
        }
    }

    fn queue_view(&self) -> Vec<QueueEntry> {
        let entries = self.queue.iter().filter_map(|id| self.get(*id));
        entries
            .enumerate()
            .map(|(i, p)| QueueEntry {
                id: p.public_id.clone(),
                name: p.name.clone(),
                position: i + 1,
            })
            .collect()
    }

    /// Settings plus the lock and suspend flags, as clients see them.
    pub fn status(&self) -> RoomStatus {
        RoomStatus {
            settings: self.settings.clone(),
            locked: self.locked,
            suspended: self.suspended.is_some(),
        }
    }

    fn waiting_view(&self) -> Vec<WaiterView> {
        let w = self.waiting.iter();
        w.map(|p| WaiterView {
            id: p.public_id.clone(),
            name: p.name.clone(),
            same_network_as_banned: p.same_network_as_banned,
        })
        .collect()
    }

    /// Everything `who` may see right now; `None` unless admitted. Sent automatically on
    /// admission; the hub may also call it (e.g. after a reconnect).
    pub fn state_for(&self, now: Instant, who: ParticipantId) -> Option<RoomSnapshot> {
        let me = self.get(who)?;
        Some(RoomSnapshot {
            you: me.public_id.clone(),
            status: self.status(),
            participants: self.participants.iter().map(|p| self.view_of(p)).collect(),
            queue: self.queue_view(),
            floor: self.floor_view(now),
            chat: self.chat_for(me),
            waiting: if me.role.is_staff() {
                self.waiting_view()
            } else {
                Vec::new()
            },
            bans: if me.role.is_staff() {
                self.bans.view()
            } else {
                Vec::new()
            },
            readings: self.readings.list().to_vec(),
            shown_reading: self.readings.shown.clone(),
            screen_share: self.screen.and_then(|s| self.get(s)).map(|p| p.public_id.clone()),
        })
    }

    /// The room chat `p` may read: what was said since they arrived, or the recent history
    /// when the room shares it. The facilitator (the secret holder, who answers for the room)
    /// always gets the recent history, to see what a raid left on screen.
    fn chat_for(&self, p: &Participant) -> Vec<super::ChatView> {
        let everything = self.settings.share_earlier_chat || p.role == super::Role::Facilitator;
        let seen = self
            .chat
            .iter()
            .filter(|m| everything || m.id >= p.chat_from);
        seen.cloned().collect()
    }

    /// Who receives an effect's event, resolved against the current state: `Broadcast`
    /// reaches admitted participants only, never the waiting room. Empty for effects that
    /// are not messages.
    pub fn audience(&self, effect: &Effect) -> Vec<ParticipantId> {
        match effect {
            Effect::Send { to, .. } => vec![*to],
            Effect::Broadcast { except, .. } => {
                let all = self.participants.iter().map(|p| p.id);
                all.filter(|id| Some(*id) != *except).collect()
            }
            Effect::ToFacilitators { .. } => {
                let staff = self.participants.iter().filter(|p| p.role.is_staff());
                staff.map(|p| p.id).collect()
            }
            Effect::SetForwarding { .. } | Effect::Admitted { .. } | Effect::Disconnect { .. } | Effect::SaveSettings { .. } => {
                Vec::new()
            }
        }
    }
}
