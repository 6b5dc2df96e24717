//! The VP8 payload descriptor (RFC 7741, section 4.2) as the forwarder needs it: where a
//! keyframe starts, the picture id and TL0PICIDX a layer switch renumbers, and the rewrite
//! itself. Never panics, whatever the bytes.
//!
//! ```text
//!  first byte  |X|R|N|S|R| PID |   X: extensions follow, N: non-reference, S: start of partition
//!  X: (1 byte) |I|L|T|K| RSV   |   I: picture id, L: TL0PICIDX, T: TID, K: KEYIDX
//!  I: (1 or 2) |M| PictureID   |   M=1: 15 bits (browsers), M=0: 7 bits
//!  L: (1 byte) |  TL0PICIDX    |
//!  T/K: (1)    |TID|Y| KEYIDX  |
//!  then the VP8 payload header, whose low bit P is 0 on a keyframe
//! ```

/// A picture id as received: its value and its width on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureId {
    /// 0..=0x7fff (15 bits) or 0..=0x7f (7 bits).
    pub value: u16,
    /// Sent in 15 bits (M=1), as browsers do.
    pub wide: bool,
}

impl PictureId {
    /// The bits the value has on the wire.
    pub fn mask(self) -> u16 {
        if self.wide { 0x7fff } else { 0x7f }
    }
}

/// The T/K byte: temporal layer and key index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Temporal {
    /// TID, when T=1.
    pub tid: Option<u8>,
    /// Y (layer sync), when T=1.
    pub layer_sync: bool,
    /// KEYIDX, when K=1. Never rewritten: browsers do not send it and receivers ignore it.
    pub keyidx: Option<u8>,
}

/// One packet's parsed descriptor. Small and `Copy`: parse once per received packet and
/// hand it to every subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptor {
    pub non_reference: bool,
    pub start_of_partition: bool,
    pub partition_id: u8,
    pub picture_id: Option<PictureId>,
    pub tl0picidx: Option<u8>,
    pub temporal: Option<Temporal>,
    /// Bytes of descriptor before the VP8 payload header.
    len: u8,
    keyframe_start: bool,
}

impl Descriptor {
    /// `None` for a payload too short for the descriptor its bits announce, or with no VP8
    /// byte after it. L without T (which RFC 7741 forbids, and str0m's `Vp8Descriptor`
    /// rejects) is read as laid out, like `packet::starts_vp8_keyframe`.
    pub fn parse(payload: &[u8]) -> Option<Descriptor> {
        let &first = payload.first()?;
        let mut d = Descriptor {
            non_reference: first & 0x20 != 0,
            start_of_partition: first & 0x10 != 0,
            partition_id: first & 0x07,
            picture_id: None,
            tl0picidx: None,
            temporal: None,
            len: 1,
            keyframe_start: false,
        };
        if first & 0x80 != 0 {
            let &ext = payload.get(1)?;
            let mut at = 2;
            if ext & 0x80 != 0 {
                let &high = payload.get(at)?;
                d.picture_id = Some(if high & 0x80 != 0 {
                    let &low = payload.get(at + 1)?;
                    at += 2;
                    PictureId { value: u16::from(high & 0x7f) << 8 | u16::from(low), wide: true }
                } else {
                    at += 1;
                    PictureId { value: u16::from(high), wide: false }
                });
            }
            if ext & 0x40 != 0 {
                d.tl0picidx = Some(*payload.get(at)?);
                at += 1;
            }
            if ext & 0x30 != 0 {
                let &tk = payload.get(at)?;
                let has_tid = ext & 0x20 != 0;
                d.temporal = Some(Temporal {
                    tid: has_tid.then_some(tk >> 6),
                    layer_sync: has_tid && tk & 0x20 != 0,
                    keyidx: (ext & 0x10 != 0).then_some(tk & 0x1f),
                });
                at += 1;
            }
            d.len = at as u8; // at most 6
        }
        let &vp8_header = payload.get(usize::from(d.len))?;
        d.keyframe_start = d.start_of_partition && d.partition_id == 0 && vp8_header & 0x01 == 0;
        Some(d)
    }

    /// The first packet of a keyframe: S=1, PID=0 and the VP8 header's P bit clear. The only
    /// place a subscriber's decoder can start, so the only place to switch layers.
    pub fn starts_keyframe(&self) -> bool {
        self.keyframe_start
    }

    /// The descriptor's length: where the VP8 payload header starts.
    pub fn header_len(&self) -> usize {
        usize::from(self.len)
    }

    /// The width and height a keyframe's first packet announces (RFC 6386, section 9.1: after
    /// the 3-byte frame tag, the start code `9d 01 2a`, then 14-bit width and height, each
    /// with 2 bits of scaling above). `None` for any other packet or a malformed header.
    pub fn keyframe_size(&self, payload: &[u8]) -> Option<(u16, u16)> {
        if !self.keyframe_start {
            return None;
        }
        let frame = payload.get(self.header_len()..)?;
        if frame.get(3..6)? != [0x9d, 0x01, 0x2a] {
            return None;
        }
        let dimension = |at: usize| Some(u16::from_le_bytes([*frame.get(at)?, *frame.get(at + 1)?]) & 0x3fff);
        Some((dimension(6)?, dimension(8)?))
    }

    /// Where the picture id starts (after the two fixed bytes), and where TL0PICIDX is.
    #[cfg_attr(not(test), allow(dead_code))]
    fn tl0_offset(&self) -> usize {
        2 + self.picture_id.map_or(0, |p| if p.wide { 2 } else { 1 })
    }
}

/// New values for a packet's descriptor fields (`None`: leave as received). A field the
/// packet does not carry is left out; a picture id keeps the width it was received with
/// (only the low 7 bits of the value go into a 7-bit one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Vp8Rewrite {
    pub picture_id: Option<u16>,
    pub tl0picidx: Option<u8>,
}

/// What [`Vp8Rewrite::write`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub enum Rewritten {
    /// Nothing to change (no such field, or the same value): send the payload as received.
    Unchanged,
    /// The rewritten payload is the first this many bytes of the buffer (the payload's length).
    Written(usize),
}

/// The buffer given to [`Vp8Rewrite::write`] is shorter than the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub struct BufferTooSmall;

#[cfg_attr(not(test), allow(dead_code))]
impl Vp8Rewrite {
    /// Copies `payload` into `out` with the new descriptor fields: one copy, same length.
    /// [`Rewritten::Unchanged`] (and nothing written) when no byte would change, so the
    /// caller can forward the shared payload instead.
    pub fn write(&self, payload: &[u8], out: &mut [u8]) -> Result<Rewritten, BufferTooSmall> {
        let edits = self.edits(payload);
        if edits.is_empty() {
            return Ok(Rewritten::Unchanged);
        }
        let out = out.get_mut(..payload.len()).ok_or(BufferTooSmall)?;
        out.copy_from_slice(payload);
        edits.apply(out);
        Ok(Rewritten::Written(payload.len()))
    }

    /// Rewrites the descriptor of a payload the caller already copied (for instance a fresh
    /// `Arc<[u8]>` through `Arc::get_mut`). Returns whether a byte changed.
    pub fn apply_in_place(&self, payload: &mut [u8]) -> bool {
        let edits = self.edits(payload);
        edits.apply(payload);
        !edits.is_empty()
    }

    /// The bytes that differ, at most three: picture id (1 or 2) and TL0PICIDX.
    fn edits(&self, payload: &[u8]) -> Edits {
        let mut edits = Edits::default();
        let Some(d) = Descriptor::parse(payload) else { return edits };
        if let (Some(new), Some(pid)) = (self.picture_id, d.picture_id) {
            if pid.wide {
                edits.push(payload, 2, 0x80 | ((new >> 8) as u8 & 0x7f));
                edits.push(payload, 3, new as u8);
            } else {
                edits.push(payload, 2, new as u8 & 0x7f);
            }
        }
        if let (Some(new), Some(_)) = (self.tl0picidx, d.tl0picidx) {
            edits.push(payload, d.tl0_offset(), new);
        }
        edits
    }
}

#[derive(Default)]
#[cfg_attr(not(test), allow(dead_code))]
struct Edits {
    len: usize,
    at: [(usize, u8); 3],
}

#[cfg_attr(not(test), allow(dead_code))]
impl Edits {
    /// Records `byte` at `offset` if it differs from what is there (parsing checked it is).
    fn push(&mut self, payload: &[u8], offset: usize, byte: u8) {
        if payload.get(offset).is_some_and(|&b| b != byte) && self.len < self.at.len() {
            self.at[self.len] = (offset, byte);
            self.len += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn apply(&self, out: &mut [u8]) {
        for &(offset, byte) in &self.at[..self.len] {
            if let Some(b) = out.get_mut(offset) {
                *b = byte;
            }
        }
    }
}
