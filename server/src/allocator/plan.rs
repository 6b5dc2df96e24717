//! The plan: a pure function from a budget and the inputs to every track's allocation.
//! No state, no time: the hysteresis lives in the budget (`budget.rs`).

use std::collections::{BTreeMap, HashSet};

use super::budget::Limits;
use super::{
    Allocation, Bps, Inputs, Layer, Media, PauseReason, Probe, TrackId, View, HEADROOM, MAX_LAYERS,
    MAX_TILE_PX, MAX_TRACK_BITRATE, MIN_LAYER_BITRATE, UP_MARGIN,
};

pub(super) struct Plan {
    pub(super) allocations: BTreeMap<TrackId, Allocation>,
    pub(super) probe: Probe,
    /// The budget the next step up needs; `None` when nothing more is wanted.
    pub(super) wanted: Option<Bps>,
    /// A priority video kept its lowest layer only through the `priority` limit.
    pub(super) priority_held: bool,
}

/// The classes below this are priority videos: placed first up to their tile, their lowest
/// layer kept through a short fall (`PRIORITY_CONFIRM`).
const PRIORITY_CLASSES: u8 = 3;

/// A shown video, cleaned up for planning.
struct Candidate {
    id: TrackId,
    /// 0 a shared screen, 1 floor holder, 2 active speaker, 3 everyone else.
    class: u8,
    /// Rendered area, `None` when not reported (ranked after every known size).
    area: Option<u64>,
    costs: Vec<Bps>,
    /// The highest layer the tile needs.
    cap: usize,
    /// The layer it has now, if it plays: kept within the keep limit.
    kept: Option<usize>,
}

/// What each layer costs, lowest first: at least [`MIN_LAYER_BITRATE`], at most
/// [`MAX_TRACK_BITRATE`], and never less than a lower layer (a measured rate can dip under
/// a lower layer's for a moment; planning on it would let "lower" cost more).
pub(super) fn layer_costs(layers: &[Layer]) -> Vec<Bps> {
    let mut floor = MIN_LAYER_BITRATE;
    let layers = layers.iter().take(MAX_LAYERS);
    layers
        .map(|l| {
            floor = floor.max(l.bitrate.min(MAX_TRACK_BITRATE));
            floor
        })
        .collect()
}

pub(super) fn audio_cost(bitrate: Bps) -> Bps {
    bitrate.min(MAX_TRACK_BITRATE)
}

/// The lowest layer whose height covers the tile; the top one when none does or the size is
/// unknown.
fn cap_for(layers: &[Layer], view: View) -> usize {
    let top = layers.len().min(MAX_LAYERS) - 1;
    let View::Shown { width, height } = view else {
        return top;
    };
    let (w, h) = (width.min(MAX_TILE_PX), height.min(MAX_TILE_PX));
    let needed = h.max((u64::from(w) * 9 / 16) as u32);
    layers[..=top]
        .iter()
        .position(|l| l.height >= needed)
        .unwrap_or(top)
}

/// `current`: the last plan's allocations (what may be kept up to `limits.keep`).
pub(super) fn plan(limits: Option<Limits>, inputs: &Inputs, current: &BTreeMap<TrackId, Allocation>) -> Plan {
    let mut allocations = BTreeMap::new();
    let mut seen = HashSet::new();
    let mut audio = Bps(0);
    let mut shown = Vec::new();
    for track in &inputs.tracks {
        let empty_video = matches!(&track.media, Media::Video { layers, .. } if layers.is_empty());
        if empty_video || !seen.insert(track.id) {
            continue;
        }
        let (layers, view, screen) = match &track.media {
            Media::Audio { bitrate } => {
                audio = audio.plus(audio_cost(*bitrate));
                allocations.insert(track.id, Allocation::Audio);
                continue;
            }
            Media::Video { layers, view, screen } => (layers, *view, *screen),
        };
        let paused = if inputs.sound_only {
            Some(PauseReason::SoundOnly)
        } else if view == View::Hidden {
            Some(PauseReason::NotVisible)
        } else {
            None
        };
        if let Some(reason) = paused {
            allocations.insert(track.id, Allocation::Paused(reason));
            continue;
        }
        let class = if screen {
            0
        } else if Some(track.publisher) == inputs.floor {
            1
        } else if Some(track.publisher) == inputs.speaker {
            2
        } else {
            3
        };
        let area = match view {
            View::Shown { width, height } => {
                Some(u64::from(width.min(MAX_TILE_PX)) * u64::from(height.min(MAX_TILE_PX)))
            }
            _ => None,
        };
        let cap = cap_for(layers, view);
        let costs = layer_costs(layers);
        let kept = match current.get(&track.id) {
            Some(Allocation::Layer(l)) => Some(usize::from(*l).min(costs.len() - 1)),
            _ => None,
        };
        shown.push(Candidate {
            id: track.id,
            class,
            area,
            costs,
            cap,
            kept,
        });
    }
    // A screen, floor holder, speaker, then larger tiles first; unknown sizes last; ids break
    // ties.
    shown.sort_by_key(|c| (c.class, c.area.is_none(), std::cmp::Reverse(c.area), c.id));

    // Settling after a fall, nothing resumes or rises: no budget to grow with.
    let video_budget = limits.filter(|l| !l.settling).map_or(Bps(0), |l| l.grow.minus(audio));
    let keep_budget = limits.map_or(Bps(0), |l| l.keep.minus(audio));
    let priority_budget = limits.map_or(Bps(0), |l| l.priority.minus(audio));
    let Greedy {
        layers: planned,
        short,
        priority_held,
        ..
    } = Greedy::run(video_budget, keep_budget, priority_budget, &shown);
    let layers = match limits {
        Some(_) => planned,
        // No estimate yet: the priority video alone, at its lowest layer.
        None => {
            let first = shown.first().filter(|c| c.class < PRIORITY_CLASSES);
            shown
                .iter()
                .map(|c| first.filter(|f| f.id == c.id).map(|_| 0))
                .collect()
        }
    };
    let mut video = Bps(0);
    for (c, layer) in shown.iter().zip(&layers) {
        let allocation = match layer {
            Some(l) => {
                video = video.plus(c.costs[*l]);
                Allocation::Layer(*l as u8)
            }
            None => Allocation::Paused(PauseReason::NoRoom),
        };
        allocations.insert(c.id, allocation);
    }
    let allocated = audio.plus(video);
    // The budget the next step needs, then the estimate that would raise the budget to it.
    let wanted = match short {
        Some(needed) => needed.plus(audio),
        None => allocated,
    };
    let desired = wanted.times_up(UP_MARGIN).over_up(HEADROOM);
    Plan {
        allocations,
        probe: Probe { allocated, desired, pad: false },
        wanted: short.map(|needed| needed.plus(audio)),
        priority_held,
    }
}

/// The allocation by priority within a video budget, and the video budget its first
/// shortfall (in the same order) would need (`short`). A video may keep the layer it has (or a lower
/// one) within the keep budget; anything more must fit within the (grow) budget.
struct Greedy {
    layers: Vec<Option<usize>>,
    /// What is allocated so far.
    used: Bps,
    grow: Bps,
    keep: Bps,
    /// For the priority videos' lowest layer, when they have it.
    priority: Bps,
    /// A video was placed that only the priority limit carried.
    priority_held: bool,
    short: Option<Bps>,
    /// Once a video does not fit at its lowest layer, no later one plays.
    stopped: bool,
}

impl Greedy {
    fn run(grow: Bps, keep: Bps, priority: Bps, shown: &[Candidate]) -> Greedy {
        let keep = keep.max(grow);
        let mut g = Greedy {
            layers: vec![None; shown.len()],
            used: Bps(0),
            grow,
            keep,
            priority: priority.max(keep),
            priority_held: false,
            short: None,
            stopped: false,
        };
        let priority = shown.iter().take_while(|c| c.class < PRIORITY_CLASSES).count();
        // The screen, the floor holder's and the speaker's videos, each as high as its tile
        // needs.
        for (i, c) in shown[..priority].iter().enumerate() {
            g.place(i, c, c.cap);
        }
        // Everyone else at the lowest layer, then raised in the same order.
        for (i, c) in shown.iter().enumerate().skip(priority) {
            g.place(i, c, 0);
        }
        for (i, c) in shown.iter().enumerate().skip(priority) {
            g.raise(i, c);
        }
        g
    }

    /// What `c` may spend at layer `l`, beyond what is used: the keep budget for the layer
    /// it has or a lower one, the grow budget for more.
    fn room(&self, c: &Candidate, l: usize) -> Bps {
        let limit = match c.kept {
            Some(_) if l == 0 && c.class < PRIORITY_CLASSES => self.priority,
            Some(k) if l <= k => self.keep,
            _ => self.grow,
        };
        limit.minus(self.used)
    }

    /// Video `i` at the highest layer up to `upto` that the remaining budget carries; if not
    /// even the lowest fits, it and every video after it stay paused.
    fn place(&mut self, i: usize, c: &Candidate, upto: usize) {
        if self.stopped {
            return;
        }
        match (0..=upto).rev().find(|&l| c.costs[l] <= self.room(c, l)) {
            Some(l) => {
                if l < upto {
                    self.note_short(c.costs[l + 1]);
                }
                if c.costs[l] > self.keep.minus(self.used) {
                    self.priority_held = true;
                }
                self.used = self.used.plus(c.costs[l]);
                self.layers[i] = Some(l);
            }
            None => {
                self.note_short(c.costs[0]);
                self.stopped = true;
            }
        }
    }

    /// A playing video raised as far towards its cap as the remaining budget carries.
    fn raise(&mut self, i: usize, c: &Candidate) {
        let Some(base) = self.layers[i] else { return };
        self.used = self.used.minus(c.costs[base]);
        let l = (base..=c.cap)
            .rev()
            .find(|&l| c.costs[l] <= self.room(c, l))
            .unwrap_or(base);
        if l < c.cap {
            self.note_short(c.costs[l + 1]);
        }
        self.used = self.used.plus(c.costs[l]);
        self.layers[i] = Some(l);
    }

    /// Records the first shortfall: the video budget that would have bought `cost` here.
    fn note_short(&mut self, cost: Bps) {
        if self.short.is_none() {
            self.short = Some(self.used.plus(cost));
        }
    }
}
