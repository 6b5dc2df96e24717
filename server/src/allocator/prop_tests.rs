//! Property test: random estimates, track sets, views and time steps keep the allocator's
//! promises — audio always on, video within the usable estimate, the changes exactly the
//! difference, and nothing moving unless an input changed or a hold ended.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::plan::{audio_cost, layer_costs};
use super::*;

#[derive(Debug, Clone)]
enum Step {
    /// New inputs, after this many milliseconds.
    New(Inputs, u64),
    /// The same inputs again, after this many milliseconds.
    Same(u64),
}

fn publisher() -> impl Strategy<Value = PublisherId> {
    (1..=4u64).prop_map(PublisherId)
}

fn bitrate() -> impl Strategy<Value = Bps> {
    prop_oneof![
        8 => (0..2_000_000u64).prop_map(Bps),
        1 => Just(Bps(0)),
        1 => Just(Bps(u64::MAX)),
    ]
}

fn layer() -> impl Strategy<Value = Layer> {
    let height = prop_oneof![4 => prop::sample::select(vec![90u32, 180, 360, 540, 720, 1080]), 1 => any::<u32>()];
    (bitrate(), height).prop_map(|(bitrate, height)| Layer { bitrate, height })
}

fn layers() -> impl Strategy<Value = Vec<Layer>> {
    prop_oneof![
        10 => prop::collection::vec(layer(), 1..=3),
        1 => prop::collection::vec(layer(), 0..=5),
        4 => (1..=3usize).prop_map(|n| (0..n).map(Layer::nominal).collect()),
    ]
}

fn view() -> impl Strategy<Value = View> {
    let px = prop_oneof![8 => 0..4000u32, 1 => Just(u32::MAX)];
    prop_oneof![
        1 => Just(View::Unknown),
        1 => Just(View::Hidden),
        4 => (px.clone(), px).prop_map(|(width, height)| View::Shown { width, height }),
    ]
}

/// Ids 1–3 are voices, 4–8 cameras or (one in five) screens; a later duplicate id of either
/// kind is noise.
fn track() -> impl Strategy<Value = Track> {
    let audio = (1..=3u64, publisher(), bitrate()).prop_map(|(id, publisher, bitrate)| Track {
        id: TrackId(id),
        publisher,
        media: Media::Audio { bitrate },
    });
    let video = (4..=8u64, publisher(), layers(), view(), prop::bool::weighted(0.2)).prop_map(
        |(id, publisher, layers, view, screen)| Track {
            id: TrackId(id),
            publisher,
            media: Media::Video { layers, view, screen },
        },
    );
    prop_oneof![audio, video]
}

fn estimate() -> impl Strategy<Value = Option<Bps>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(Bps(0))),
        8 => (1..4_000_000u64).prop_map(|b| Some(Bps(b))),
        1 => Just(Some(Bps(u64::MAX))),
    ]
}

fn inputs() -> impl Strategy<Value = Inputs> {
    (
        estimate(),
        prop::bool::weighted(0.1),
        proptest::option::of(publisher()),
        proptest::option::of(publisher()),
        prop::collection::vec(track(), 0..8),
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(estimate, sound_only, floor, speaker, tracks, path_clear, overflowing)| Inputs {
            estimate,
            sound_only,
            floor,
            speaker,
            tracks,
            path_clear,
            overflowing,
        })
}

fn step() -> impl Strategy<Value = Step> {
    let dt = prop_oneof![1 => Just(0u64), 4 => 0..6_000u64];
    prop_oneof![
        2 => (inputs(), dt.clone()).prop_map(|(i, dt)| Step::New(i, dt)),
        1 => dt.prop_map(Step::Same),
    ]
}

/// The tracks the allocator should know: first of each id, videos with at least a layer.
fn valid(inputs: &Inputs) -> BTreeMap<TrackId, &Track> {
    let mut out = BTreeMap::new();
    for t in &inputs.tracks {
        let empty = matches!(&t.media, Media::Video { layers, .. } if layers.is_empty());
        if !empty && !out.contains_key(&t.id) {
            out.insert(t.id, t);
        }
    }
    out
}

/// The highest estimate of the last `span` (since the last time there was none), from the
/// estimates given and when.
fn lately(history: &[History], now: Instant, span: Duration) -> Option<Bps> {
    let since = history.iter().rposition(|h| h.estimate.is_none_or(|e| e.0 == 0)).map_or(0, |i| i + 1);
    let tail = &history[since..];
    let mut max = None;
    for (i, h) in tail.iter().enumerate() {
        let until = tail.get(i + 1).map_or(now, |next| next.at);
        if now.saturating_duration_since(until) < span || i + 1 == tail.len() {
            max = max.max(h.estimate);
        }
    }
    max
}

/// One update's estimate, when, and whether the allocator had asked for a probe lately (a
/// fall then may be the probe's: [`PROBE_GUARD`]).
#[derive(Debug, Clone, Copy)]
struct History {
    estimate: Option<Bps>,
    at: Instant,
    probing: bool,
    /// What the allocation sent before this update.
    allocated: Bps,
}

/// What the priority video's lowest layer may be kept within: the highest estimate of the
/// last PRIORITY_CONFIRM, or, after a fall in the last PROBE_GUARD_CLEAR (the longest a guard
/// lasts, while the path is clear) that is part of a cascade
/// begun within PROBE_BLAME of a probe or step up, the highest of the CALM before it too.
fn tolerated(history: &[History], now: Instant) -> Option<Bps> {
    let confirm = lately(history, now, PRIORITY_CONFIRM);
    // Falls in a row from one that came while probing: a guard may start at any of them.
    let mut cascade = false;
    let mut guarded = false;
    for w in history.windows(2) {
        let fell = matches!((w[0].estimate, w[1].estimate), (Some(a), Some(b)) if b < a);
        cascade = fell && (w[1].probing || cascade);
        guarded |= cascade && now.saturating_duration_since(w[1].at) < PROBE_GUARD_CLEAR;
    }
    if guarded {
        // The guard's level: an estimate of the window, or what flowed over KEEP.
        let since = now.checked_sub(CALM + PROBE_GUARD_CLEAR);
        let flowed = history.iter().filter(|h| since.is_none_or(|s| h.at >= s)).map(|h| h.allocated.over_up(KEEP)).max();
        confirm.max(lately(history, now, CALM + PROBE_GUARD_CLEAR)).max(flowed)
    } else {
        confirm
    }
}

fn check(inputs: &Inputs, a: &Allocator, lately: Option<Bps>) -> Result<(), TestCaseError> {
    let tracks = valid(inputs);
    let known: BTreeSet<TrackId> = a.allocations().map(|(t, _)| t).collect();
    prop_assert_eq!(&known, &tracks.keys().copied().collect::<BTreeSet<_>>());
    let (mut audio, mut video, mut playing) = (Bps(0), Bps(0), Vec::new());
    // Screens paused for room, and cameras that play: never both (a screen before every camera).
    let (mut screen_paused, mut camera_playing) = (false, false);
    for (id, t) in &tracks {
        let got = a.allocation(*id).unwrap();
        // The plan's rates: each the measured one, or within the band of it.
        let planned = a.planned_rates(*id).unwrap();
        let measured: Vec<Bps> = match &t.media {
            Media::Audio { bitrate } => vec![*bitrate],
            Media::Video { layers, .. } => layers.iter().map(|l| l.bitrate).collect(),
        };
        prop_assert_eq!(planned.len(), measured.len());
        for (p, m) in planned.iter().zip(&measured) {
            prop_assert!(p.0.abs_diff(m.0) <= p.times(COST_BAND).0, "planned {p:?} for {m:?}");
        }
        match &t.media {
            Media::Audio { .. } => {
                prop_assert_eq!(got, Allocation::Audio, "audio is always on");
                audio = audio.plus(audio_cost(planned[0]));
            }
            Media::Video { layers, view, screen } => {
                if inputs.sound_only {
                    prop_assert_eq!(got, Allocation::Paused(PauseReason::SoundOnly));
                } else if *view == View::Hidden {
                    prop_assert_eq!(got, Allocation::Paused(PauseReason::NotVisible));
                }
                if let Allocation::Layer(l) = got {
                    let l = l as usize;
                    prop_assert!(l < layers.len().min(MAX_LAYERS));
                    let planned_layers: Vec<Layer> = layers.iter().zip(planned).map(|(l, &bitrate)| Layer { bitrate, ..*l }).collect();
                    video = video.plus(layer_costs(&planned_layers)[l]);
                    playing.push((t.publisher, *screen, l));
                    camera_playing |= !screen;
                    if let (View::Shown { width, height }, true) = (view, l > 0) {
                        let (w, h) = (width.min(&MAX_TILE_PX), height.min(&MAX_TILE_PX));
                        let needed = (*h).max((u64::from(*w) * 9 / 16) as u32);
                        prop_assert!(
                            layers[l - 1].height < needed,
                            "no layer larger than the tile"
                        );
                    }
                } else {
                    prop_assert!(matches!(got, Allocation::Paused(_)));
                    screen_paused |= *screen && got == Allocation::Paused(PauseReason::NoRoom);
                }
            }
        }
    }
    match inputs.estimate.filter(|e| e.0 > 0) {
        // The priority video's lowest layer may stay within what the estimate of the last
        // PRIORITY_CONFIRM tolerated (or, after a probe's fall, of the calm before it).
        Some(e) => prop_assert!(
            video <= lately.unwrap_or(e).max(e).times(KEEP).minus(audio),
            "video {video:?} over what the estimate tolerates"
        ),
        None => {
            prop_assert!(playing.len() <= 1, "without an estimate, one video at most");
            if let Some((p, screen, l)) = playing.first() {
                prop_assert_eq!(*l, 0);
                prop_assert!(*screen || Some(*p) == inputs.floor || Some(*p) == inputs.speaker);
            }
        }
    }
    prop_assert!(!(screen_paused && camera_playing), "a camera plays while a screen is paused for room");
    prop_assert_eq!(a.probe().allocated, audio.plus(video));
    if inputs.overflowing {
        prop_assert_eq!(a.probe().desired, a.probe().allocated, "a probe into a link that overflows");
        prop_assert!(!a.probe().pad, "padding into a link that overflows");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn allocations_keep_their_promises(first in inputs(), steps in prop::collection::vec(step(), 1..40)) {
        let mut now = Instant::now();
        let mut a = Allocator::new();
        let mut applied: BTreeMap<TrackId, Allocation> = BTreeMap::new();
        let mut current = first;
        let mut history = vec![History { estimate: current.estimate, at: now, probing: false, allocated: Bps(0) }];
        let mut changes = a.update(now, &current);
        for step in std::iter::once(None).chain(steps.into_iter().map(Some)) {
            if let Some(step) = step {
                let deadline = a.next_deadline();
                let (next, dt, same) = match step {
                    Step::New(i, dt) => (i, dt, false),
                    Step::Same(dt) => (current.clone(), dt, true),
                };
                now += Duration::from_millis(dt);
                current = next;
                history.push(History { estimate: current.estimate, at: now, probing: a.prober.probing(now), allocated: a.probe().allocated });
                changes = a.update(now, &current);
                if same && deadline.is_none_or(|d| now < d) {
                    prop_assert!(changes.is_empty(), "a change with nothing changed: {changes:?}");
                }
            }
            for c in &changes {
                prop_assert_eq!(c.needs_keyframe, matches!(c.to, Allocation::Layer(_)));
                prop_assert_ne!(applied.get(&c.track), Some(&c.to), "a change to what is already applied");
                applied.insert(c.track, c.to);
            }
            let ids = valid(&current);
            applied.retain(|t, _| ids.contains_key(t));
            prop_assert_eq!(&applied, &a.allocations().collect::<BTreeMap<_, _>>());
            check(&current, &a, tolerated(&history, now))?;
            // Asking again at once changes nothing.
            prop_assert!(a.update(now, &current).is_empty());
        }
    }
}
