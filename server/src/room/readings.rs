//! Readings: the titled texts a group reads together (a preamble, the steps, the
//! guidelines), and which one staff show to everyone, at which paragraph, read by whom.
//! Imports no tokio, no media, no network.
//!
//! Text only: the room keeps and sends plain strings, clients render them as text. The list
//! changes rarely and its texts are long, so the handlers announce each change themselves
//! (`ReadingSaved`, `ReadingRemoved`); what is shown is small and found by the view diff.
//! A paragraph is a run of non-blank lines; blank lines separate them (clients split alike).
//!
//! The room's guidelines are a reading too ("Our guidelines"): it follows the guidelines
//! setting while the meeting runs (new text, added when they are set, removed when they are
//! cleared), unless staff removed it from the list themselves.

use std::time::Instant;

use super::{Effect, ParticipantId, Room, RoomError, RoomEvent};

/// Readings one meeting may hold, the guidelines' among them.
pub const MAX_READINGS: usize = 20;
pub const MAX_READING_TITLE_CHARS: usize = 120;
pub const MAX_READING_CHARS: usize = 20_000;
/// The "who is reading" line: a first name, or a few words ("Sam, then Ana").
pub const MAX_READER_CHARS: usize = 60;
/// The title of the reading the room's guidelines become.
pub const GUIDELINES_TITLE: &str = "Our guidelines";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadingId(pub u64);

/// A reading as the config file, the organisation's store or staff give it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadingText {
    pub title: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingView {
    pub id: ReadingId,
    pub title: String,
    pub text: String,
}

/// The reading staff show to everyone now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownReading {
    pub id: ReadingId,
    /// 0-based index of the highlighted paragraph.
    pub paragraph: usize,
    pub reader: Option<String>,
}

#[derive(Debug, Default)]
pub(super) struct Readings {
    list: Vec<ReadingView>,
    next_id: u64,
    pub shown: Option<ShownReading>,
    /// The reading the guidelines setting became, while it is in the list.
    guidelines: Option<ReadingId>,
}

/// How many paragraphs `text` has: runs of non-blank lines.
pub fn paragraph_count(text: &str) -> usize {
    let mut count = 0;
    let mut in_paragraph = false;
    for line in text.lines() {
        let blank = line.trim().is_empty();
        if !blank && !in_paragraph {
            count += 1;
        }
        in_paragraph = !blank;
    }
    count
}

/// Checks a reading's title and text against the caps; both must say something.
pub fn check_reading(r: &ReadingText) -> Result<(), RoomError> {
    if r.title.trim().is_empty() || r.text.trim().is_empty() {
        return Err(RoomError::EmptyReading);
    }
    if r.title.chars().count() > MAX_READING_TITLE_CHARS {
        return Err(RoomError::ReadingTooLong("title"));
    }
    if r.text.chars().count() > MAX_READING_CHARS {
        return Err(RoomError::ReadingTooLong("text"));
    }
    Ok(())
}

impl Readings {
    /// The room's guidelines first (when it has any), then the configured readings.
    pub fn new(guidelines: &str, configured: Vec<ReadingText>) -> Readings {
        let mut readings = Readings::default();
        if !guidelines.trim().is_empty() {
            readings.guidelines = Some(readings.push(guidelines_reading(guidelines)).id);
        }
        let room = MAX_READINGS - readings.list.len();
        for r in configured.into_iter().take(room) {
            readings.push(r);
        }
        readings
    }

    fn push(&mut self, r: ReadingText) -> ReadingView {
        self.next_id += 1;
        let view = ReadingView {
            id: ReadingId(self.next_id),
            title: r.title,
            text: r.text,
        };
        self.list.push(view.clone());
        view
    }

    pub fn list(&self) -> &[ReadingView] {
        &self.list
    }

    /// The readings as a meeting would start with them again (`save_settings`): all but the
    /// one the guidelines became, which the guidelines setting brings back.
    pub fn kept(&self) -> Vec<ReadingText> {
        let own = self.list.iter().filter(|r| Some(r.id) != self.guidelines);
        own.map(|r| ReadingText { title: r.title.clone(), text: r.text.clone() }).collect()
    }

    /// The guidelines' reading after the setting changed from `before` to `after`: its new
    /// text, a new one when they were set, none when they were cleared. `None` when nothing
    /// changes; [`RoomError::TooManyReadings`] when new guidelines find the list full.
    pub(super) fn follow_guidelines(&mut self, before: &str, after: &str) -> Result<Option<RoomEvent>, RoomError> {
        if before == after {
            return Ok(None);
        }
        let current = self.guidelines.filter(|id| self.list.iter().any(|r| r.id == *id));
        if after.trim().is_empty() {
            let Some(id) = current else { return Ok(None) };
            self.guidelines = None;
            self.list.retain(|r| r.id != id);
            if self.shown.as_ref().is_some_and(|s| s.id == id) {
                self.shown = None;
            }
            return Ok(Some(RoomEvent::ReadingRemoved { id }));
        }
        let view = match current {
            Some(id) => {
                let r = self.get_mut(id)?;
                r.text = after.into();
                let view = r.clone();
                self.keep_highlight_within(&view);
                view
            }
            // Staff removed it while the guidelines stayed: it stays removed.
            None if !before.trim().is_empty() => return Ok(None),
            None if self.list.len() >= MAX_READINGS => return Err(RoomError::TooManyReadings),
            None => {
                let view = self.push(guidelines_reading(after));
                self.guidelines = Some(view.id);
                view
            }
        };
        Ok(Some(RoomEvent::ReadingSaved(view)))
    }

    /// The highlight stays on a paragraph the reading's new text still has.
    fn keep_highlight_within(&mut self, view: &ReadingView) {
        if let Some(shown) = self.shown.as_mut().filter(|s| s.id == view.id) {
            let last = paragraph_count(&view.text).saturating_sub(1);
            shown.paragraph = shown.paragraph.min(last);
        }
    }

    fn get_mut(&mut self, id: ReadingId) -> Result<&mut ReadingView, RoomError> {
        let found = self.list.iter_mut().find(|r| r.id == id);
        found.ok_or(RoomError::UnknownReading)
    }
}

fn guidelines_reading(text: &str) -> ReadingText {
    ReadingText {
        title: GUIDELINES_TITLE.into(),
        text: text.into(),
    }
}

impl Room {
    /// Staff edits are rate limited per person: a pasted text is broadcast whole.
    fn take_reading_token(&mut self, now: Instant, from: ParticipantId) -> Result<(), RoomError> {
        let p = self.get_mut(from).ok_or(RoomError::UnknownParticipant)?;
        if p.reading_edits.try_take(now) {
            Ok(())
        } else {
            Err(RoomError::RateLimited)
        }
    }

    pub(super) fn add_reading(
        &mut self,
        now: Instant,
        from: ParticipantId,
        reading: ReadingText,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        check_reading(&reading)?;
        if self.readings.list.len() >= MAX_READINGS {
            return Err(RoomError::TooManyReadings);
        }
        self.take_reading_token(now, from)?;
        let view = self.readings.push(reading);
        out.push(Effect::Broadcast {
            event: RoomEvent::ReadingSaved(view),
            except: None,
        });
        Ok(())
    }

    pub(super) fn edit_reading(
        &mut self,
        now: Instant,
        from: ParticipantId,
        id: ReadingId,
        reading: ReadingText,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        check_reading(&reading)?;
        self.readings.get_mut(id)?;
        self.take_reading_token(now, from)?;
        let r = self.readings.get_mut(id)?;
        r.title = reading.title;
        r.text = reading.text;
        let view = r.clone();
        self.readings.keep_highlight_within(&view);
        out.push(Effect::Broadcast {
            event: RoomEvent::ReadingSaved(view),
            except: None,
        });
        Ok(())
    }

    /// Removing the reading on show stops showing it.
    pub(super) fn remove_reading(
        &mut self,
        now: Instant,
        from: ParticipantId,
        id: ReadingId,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        self.readings.get_mut(id)?;
        self.take_reading_token(now, from)?;
        self.readings.list.retain(|r| r.id != id);
        if self.readings.shown.as_ref().is_some_and(|s| s.id == id) {
            self.readings.shown = None;
        }
        out.push(Effect::Broadcast {
            event: RoomEvent::ReadingRemoved { id },
            except: None,
        });
        Ok(())
    }

    /// Shows `id` to everyone, or moves the highlight or the reader of the one on show.
    pub(super) fn show_reading(
        &mut self,
        id: ReadingId,
        paragraph: usize,
        reader: Option<String>,
    ) -> Result<(), RoomError> {
        let r = self.readings.get_mut(id)?;
        if paragraph >= paragraph_count(&r.text) {
            return Err(RoomError::UnknownParagraph);
        }
        let reader = reader
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        if reader.as_ref().is_some_and(|r| r.chars().count() > MAX_READER_CHARS) {
            return Err(RoomError::ReadingTooLong("reader"));
        }
        self.readings.shown = Some(ShownReading {
            id,
            paragraph,
            reader,
        });
        Ok(())
    }

    /// Stops showing; stopping when nothing is shown is harmless (two chairs may both click).
    pub(super) fn stop_reading(&mut self) {
        self.readings.shown = None;
    }
}
