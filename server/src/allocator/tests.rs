//! One scenario per test. Nominal layers cost 150 / 450 / 1200 kbit/s (180p / 360p / 720p),
//! a voice 40 kbit/s. A first estimate `e` gives a budget of `e × 0.9 / 1.15`; a drop gives
//! `e × 0.9` at once.

use std::time::{Duration, Instant};

use super::*;

const P1: PublisherId = PublisherId(1);
const P2: PublisherId = PublisherId(2);
const P3: PublisherId = PublisherId(3);

fn audio(id: u64, publisher: PublisherId) -> Track {
    Track {
        id: TrackId(id),
        publisher,
        media: Media::Audio {
            bitrate: NOMINAL_AUDIO,
        },
    }
}

fn video(id: u64, publisher: PublisherId, view: View) -> Track {
    let layers = (0..3).map(Layer::nominal).collect();
    Track {
        id: TrackId(id),
        publisher,
        media: Media::Video { layers, view, screen: false },
    }
}

fn tile(width: u32, height: u32) -> View {
    View::Shown { width, height }
}

fn kbps(k: u64) -> Option<Bps> {
    Some(Bps::kbps(k))
}

fn inputs(estimate: Option<Bps>, tracks: Vec<Track>) -> Inputs {
    Inputs {
        estimate,
        tracks,
        ..Inputs::default()
    }
}

fn at(start: Instant, secs: f64) -> Instant {
    start + Duration::from_secs_f64(secs)
}

fn layer(a: &Allocator, id: u64) -> Option<Allocation> {
    a.allocation(TrackId(id))
}

const NO_ROOM: Allocation = Allocation::Paused(PauseReason::NoRoom);

#[test]
fn audio_is_never_paused_even_below_its_own_bitrate() {
    let mut a = Allocator::new();
    let tracks = vec![
        audio(1, P1),
        audio(2, P2),
        audio(3, P3),
        video(4, P1, tile(640, 360)),
    ];
    let changes = a.update(Instant::now(), &inputs(kbps(50), tracks));
    for id in 1..=3 {
        assert_eq!(layer(&a, id), Some(Allocation::Audio));
    }
    assert_eq!(layer(&a, 4), Some(NO_ROOM));
    assert_eq!(changes.len(), 4);
}

#[test]
fn the_speakers_video_gets_the_room_before_others() {
    // Track 1 has the bigger tile, but P2 holds the floor.
    let tracks = vec![video(1, P1, tile(1280, 720)), video(2, P2, tile(640, 360))];
    let mut tight = inputs(kbps(230), tracks.clone()); // budget 180
    tight.floor = Some(P2);
    let mut a = Allocator::new();
    a.update(Instant::now(), &tight);
    assert_eq!(layer(&a, 2), Some(Allocation::Layer(0)));
    assert_eq!(layer(&a, 1), Some(NO_ROOM));

    // Budget 626: the floor holder's video goes as high as its tile needs (450) before the
    // other gets more than its lowest layer (150).
    let mut roomier = inputs(kbps(800), tracks);
    roomier.floor = Some(P2);
    let mut a = Allocator::new();
    a.update(Instant::now(), &roomier);
    assert_eq!(layer(&a, 2), Some(Allocation::Layer(1)));
    assert_eq!(layer(&a, 1), Some(Allocation::Layer(0)));
}

#[test]
fn the_floor_holder_comes_before_the_active_speaker() {
    let tracks = vec![video(1, P1, tile(640, 360)), video(2, P2, tile(640, 360))];
    let mut i = inputs(kbps(230), tracks); // room for one lowest layer
    i.floor = Some(P2);
    i.speaker = Some(P1);
    let mut a = Allocator::new();
    a.update(Instant::now(), &i);
    assert_eq!(layer(&a, 2), Some(Allocation::Layer(0)));
    assert_eq!(layer(&a, 1), Some(NO_ROOM));
}

fn screen(id: u64, publisher: PublisherId) -> Track {
    Track {
        id: TrackId(id),
        publisher,
        media: Media::Video { layers: vec![Layer::nominal(0)], view: View::Unknown, screen: true },
    }
}

#[test]
fn a_weak_member_gets_the_screen_before_anyones_camera_even_the_floor_holders() {
    // Room for one lowest layer after the voices: the screen (P3's) takes it, though P2
    // holds the floor and P1 speaks.
    let tracks = vec![
        audio(1, P1),
        audio(2, P2),
        video(4, P1, tile(640, 360)),
        video(5, P2, tile(1280, 720)),
        screen(6, P3),
    ];
    let mut i = inputs(kbps(330), tracks.clone()); // 80 of sound, room for one lowest layer
    i.floor = Some(P2);
    i.speaker = Some(P1);
    let mut a = Allocator::new();
    a.update(Instant::now(), &i);
    assert_eq!(layer(&a, 6), Some(Allocation::Layer(0)), "the screen plays");
    assert_eq!(layer(&a, 5), Some(NO_ROOM), "the floor holder's camera waits");
    assert_eq!(layer(&a, 4), Some(NO_ROOM));

    // The floor holder's own screen comes before their camera too.
    let mut own = inputs(kbps(330), vec![audio(1, P1), audio(2, P2), video(5, P2, tile(1280, 720)), screen(6, P2)]);
    own.floor = Some(P2);
    let mut a = Allocator::new();
    a.update(Instant::now(), &own);
    assert_eq!(layer(&a, 6), Some(Allocation::Layer(0)));
    assert_eq!(layer(&a, 5), Some(NO_ROOM));

    // With room for more, the cameras follow in their usual order.
    let mut roomy = inputs(kbps(3000), tracks);
    roomy.floor = Some(P2);
    let mut a = Allocator::new();
    a.update(Instant::now(), &roomy);
    for id in [6, 5, 4] {
        assert!(matches!(layer(&a, id), Some(Allocation::Layer(_))), "{id} plays");
    }
}

/// A screen sent as two simulcast layers (web/js/peer.js SCREEN_LAYERS): half size at up to
/// 200 kbit/s, full size at up to 1.5 Mbit/s.
fn layered_screen(id: u64, publisher: PublisherId) -> Track {
    let layers = vec![Layer { bitrate: Bps::kbps(210), height: 300 }, Layer { bitrate: Bps::kbps(1500), height: 600 }];
    Track {
        id: TrackId(id),
        publisher,
        media: Media::Video { layers, view: View::Unknown, screen: true },
    }
}

#[test]
fn a_weak_member_gets_the_screens_half_size_layer_before_any_camera_and_a_fast_one_its_full_size() {
    let tracks = vec![
        audio(1, P1),
        audio(2, P2),
        video(4, P1, tile(640, 360)),
        video(5, P2, tile(640, 360)),
        layered_screen(6, P3),
    ];
    // ~460 kbit/s, the link that got no screen with one full-size layer: 80 of sound, then
    // the screen's half-size layer; no camera, not even the floor holder's.
    let mut weak = inputs(kbps(460), tracks.clone());
    weak.floor = Some(P2);
    let mut a = Allocator::new();
    a.update(Instant::now(), &weak);
    assert_eq!(layer(&a, 6), Some(Allocation::Layer(0)), "the screen plays, at half size");
    assert_eq!(layer(&a, 5), Some(NO_ROOM), "the floor holder's camera waits for it");
    assert_eq!(layer(&a, 4), Some(NO_ROOM));
    // The probe asks for what the full size needs.
    assert!(a.probe().desired > Bps::kbps(1500), "{:?}", a.probe());

    // A fast link: the full size, and the cameras after it.
    let mut fast = inputs(kbps(5000), tracks);
    fast.floor = Some(P2);
    let mut a = Allocator::new();
    a.update(Instant::now(), &fast);
    assert_eq!(layer(&a, 6), Some(Allocation::Layer(1)), "the screen at full size");
    for id in [5, 4] {
        assert!(matches!(layer(&a, id), Some(Allocation::Layer(_))), "{id} plays");
    }
}

#[test]
fn without_an_estimate_the_screen_alone_plays() {
    let mut i = inputs(None, vec![video(4, P1, tile(640, 360)), screen(6, P2)]);
    i.floor = Some(P1);
    let mut a = Allocator::new();
    a.update(Instant::now(), &i);
    assert_eq!(layer(&a, 6), Some(Allocation::Layer(0)));
    assert_eq!(layer(&a, 4), Some(NO_ROOM));
}

#[test]
fn a_video_that_does_not_fit_is_paused_not_starved() {
    // Budget 156: 80 for the two voices leaves 76, less than the lowest layer's 150.
    let tracks = vec![audio(1, P1), audio(2, P2), video(3, P1, tile(640, 360))];
    let mut a = Allocator::new();
    a.update(Instant::now(), &inputs(kbps(200), tracks));
    assert_eq!(layer(&a, 3), Some(NO_ROOM));
    assert_eq!(a.probe().allocated, Bps::kbps(80));
}

#[test]
fn a_less_important_video_never_plays_while_a_more_important_one_is_paused() {
    let cheap = Layer {
        bitrate: Bps::kbps(60),
        height: 180,
    };
    let costly = Layer {
        bitrate: Bps::kbps(300),
        height: 180,
    };
    let big = Track {
        id: TrackId(1),
        publisher: P1,
        media: Media::Video {
            layers: vec![costly],
            view: tile(1280, 720),
            screen: false,
        },
    };
    let small = Track {
        id: TrackId(2),
        publisher: P2,
        media: Media::Video {
            layers: vec![cheap],
            view: tile(320, 180),
            screen: false,
        },
    };
    let mut a = Allocator::new();
    a.update(Instant::now(), &inputs(kbps(255), vec![big, small])); // budget 199
    assert_eq!(layer(&a, 1), Some(NO_ROOM));
    assert_eq!(layer(&a, 2), Some(NO_ROOM));
}

#[test]
fn layers_do_not_flap_when_the_estimate_wobbles() {
    let start = Instant::now();
    let tracks = vec![video(1, P1, tile(1280, 720))];
    let mut a = Allocator::new();
    a.update(start, &inputs(kbps(1600), tracks.clone())); // budget 1252: the top layer
    assert_eq!(layer(&a, 1), Some(Allocation::Layer(2)));
    let mut changes = Vec::new();
    for step in 1..=40 {
        let estimate = if step % 2 == 1 { 900 } else { 1600 };
        changes.extend(a.update(
            at(start, step as f64 * 0.5),
            &inputs(kbps(estimate), tracks.clone()),
        ));
    }
    // Down once, at the first dip (900 tolerates 1080 < 1200), and never back up while it
    // dips.
    let down = Change {
        track: TrackId(1),
        to: Allocation::Layer(1),
        needs_keyframe: true,
    };
    assert_eq!(changes, vec![down]);
}

/// The 400 kbit/s member of issue 19: three voices and the floor holder's smallest layer
/// flow; GCC answers a queue spike by setting the estimate to 85 % of what got through.
#[test]
fn a_back_off_of_the_estimate_keeps_what_flows_and_a_real_drop_does_not() {
    let start = Instant::now();
    let voice = |id, p| Track {
        id: TrackId(id),
        publisher: p,
        media: Media::Audio { bitrate: Bps::kbps(50) },
    };
    let small = Track {
        id: TrackId(4),
        publisher: P2,
        media: Media::Video {
            layers: vec![Layer { bitrate: Bps::kbps(90), height: 90 }, Layer { bitrate: Bps::kbps(250), height: 180 }],
            view: tile(160, 90),
            screen: false,
        },
    };
    let tracks = vec![voice(1, P1), voice(2, P2), voice(3, P3), small];
    let mut floor = inputs(kbps(400), tracks);
    floor.floor = Some(P2);
    let mut a = Allocator::new();
    a.update(start, &floor);
    assert_eq!(layer(&a, 4), Some(Allocation::Layer(0)));
    assert_eq!(a.probe().allocated, Bps::kbps(240));
    // 0.85 × 240 after a spike, and it stays there a while: nothing moves.
    for s in 1..20 {
        floor.estimate = kbps(204);
        assert!(a.update(at(start, s as f64 * 0.5), &floor).is_empty());
    }
    // The link carries less than what flows: 0.85 × 220 (the floor holder's video is kept
    // for PRIORITY_CONFIRM in case it is a cascade).
    floor.estimate = kbps(187);
    assert!(a.update(at(start, 10.0), &floor).is_empty());
    assert_eq!(a.next_deadline(), Some(at(start, 10.0) + PRIORITY_CONFIRM));
    let changes = a.update(at(start, 10.0) + PRIORITY_CONFIRM, &floor);
    assert_eq!(
        changes,
        vec![Change {
            track: TrackId(4),
            to: NO_ROOM,
            needs_keyframe: false
        }]
    );
    assert_eq!(a.probe().allocated, Bps::kbps(150));
}

#[test]
fn a_recovered_link_returns_to_the_top_layer_after_the_hold() {
    let start = Instant::now();
    let tracks = vec![audio(1, P1), video(2, P1, tile(1280, 720))];
    let mut a = Allocator::new();
    a.update(start, &inputs(kbps(3000), tracks.clone()));
    assert_eq!(layer(&a, 2), Some(Allocation::Layer(2)));

    let changes = a.update(at(start, 5.0), &inputs(kbps(400), tracks.clone()));
    assert_eq!(
        changes,
        vec![Change {
            track: TrackId(2),
            to: Allocation::Layer(0),
            needs_keyframe: true
        }]
    );
    assert_eq!(layer(&a, 1), Some(Allocation::Audio));

    let recovered = at(start, 10.0);
    assert!(a
        .update(recovered, &inputs(kbps(3000), tracks.clone()))
        .is_empty());
    assert_eq!(a.next_deadline(), Some(recovered + HOLD));
    let almost = recovered + HOLD - Duration::from_millis(1);
    assert!(a
        .update(almost, &inputs(kbps(3000), tracks.clone()))
        .is_empty());
    // In steps: the next layer, then (a step later) the top one.
    let changes = a.update(recovered + HOLD, &inputs(kbps(3000), tracks.clone()));
    assert_eq!(
        changes,
        vec![Change {
            track: TrackId(2),
            to: Allocation::Layer(1),
            needs_keyframe: true
        }]
    );
    let step = recovered + HOLD + STEP_EVERY;
    assert_eq!(a.next_deadline(), Some(step));
    assert!(a
        .update(step - Duration::from_millis(1), &inputs(kbps(3000), tracks.clone()))
        .is_empty());
    let changes = a.update(step, &inputs(kbps(3000), tracks));
    assert_eq!(
        changes,
        vec![Change {
            track: TrackId(2),
            to: Allocation::Layer(2),
            needs_keyframe: true
        }]
    );
    assert_eq!(a.next_deadline(), None);
}

#[test]
fn a_dip_during_the_hold_starts_it_again() {
    let start = Instant::now();
    let tracks = vec![video(1, P1, tile(1280, 720))];
    let mut a = Allocator::new();
    a.update(start, &inputs(kbps(400), tracks.clone()));
    a.update(at(start, 1.0), &inputs(kbps(3000), tracks.clone()));
    let dip = at(start, 1.0) + HOLD / 2;
    a.update(dip, &inputs(kbps(400), tracks.clone()));
    let back = dip + Duration::from_millis(500);
    a.update(back, &inputs(kbps(3000), tracks.clone()));
    assert!(a
        .update(at(start, 1.0) + HOLD, &inputs(kbps(3000), tracks.clone()))
        .is_empty());
    assert_eq!(a.next_deadline(), Some(back + HOLD));
    assert!(a
        .update(back + HOLD - Duration::from_millis(100), &inputs(kbps(3000), tracks.clone()))
        .is_empty());
    a.update(back + HOLD, &inputs(kbps(3000), tracks.clone()));
    assert_eq!(layer(&a, 1), Some(Allocation::Layer(1)));
    a.update(back + HOLD + STEP_EVERY, &inputs(kbps(3000), tracks));
    assert_eq!(layer(&a, 1), Some(Allocation::Layer(2)));
}

#[test]
fn a_paused_video_resumes_only_with_margin() {
    let start = Instant::now();
    let tracks = vec![audio(1, P1), video(2, P1, tile(640, 360))];
    let mut a = Allocator::new();
    a.update(start, &inputs(kbps(3000), tracks.clone()));
    a.update(at(start, 1.0), &inputs(kbps(150), tracks.clone())); // tolerated 180 < 190
    assert_eq!(layer(&a, 2), Some(NO_ROOM));
    // Usable 207 would carry 190, but not with 15 % to spare (218.5), however long it holds.
    for s in 2..30 {
        assert!(a
            .update(at(start, s as f64), &inputs(kbps(230), tracks.clone()))
            .is_empty());
    }
    // Usable 225 carries it with margin, once held.
    a.update(at(start, 30.0), &inputs(kbps(250), tracks.clone()));
    assert_eq!(layer(&a, 2), Some(NO_ROOM));
    let changes = a.update(at(start, 30.0) + HOLD, &inputs(kbps(250), tracks));
    assert_eq!(
        changes,
        vec![Change {
            track: TrackId(2),
            to: Allocation::Layer(0),
            needs_keyframe: true
        }]
    );
}

#[test]
fn sound_only_pauses_every_video() {
    let now = Instant::now();
    let tracks = vec![
        audio(1, P1),
        video(2, P1, tile(640, 360)),
        video(3, P2, View::Unknown),
    ];
    let mut i = inputs(kbps(10_000), tracks);
    i.floor = Some(P1);
    i.sound_only = true;
    let mut a = Allocator::new();
    a.update(now, &i);
    assert_eq!(layer(&a, 1), Some(Allocation::Audio));
    for id in [2, 3] {
        assert_eq!(
            layer(&a, id),
            Some(Allocation::Paused(PauseReason::SoundOnly))
        );
    }
    assert_eq!(a.probe().allocated, NOMINAL_AUDIO);

    // Choosing video again brings it back at once, within the budget, from keyframes.
    i.sound_only = false;
    let changes = a.update(now, &i);
    assert_eq!(changes.len(), 2);
    assert!(changes.iter().all(|c| c.needs_keyframe));
}

#[test]
fn hidden_tiles_get_no_video() {
    let tracks = vec![video(1, P1, View::Hidden), video(2, P2, tile(640, 360))];
    let mut i = inputs(kbps(10_000), tracks);
    i.floor = Some(P1);
    let mut a = Allocator::new();
    a.update(Instant::now(), &i);
    assert_eq!(
        layer(&a, 1),
        Some(Allocation::Paused(PauseReason::NotVisible))
    );
    assert_eq!(layer(&a, 2), Some(Allocation::Layer(1)));
}

#[test]
fn no_layer_larger_than_the_tile() {
    let views = [
        (1, tile(320, 180), 0),
        (2, tile(640, 360), 1),
        (3, tile(400, 300), 1),  // 4:3: its height decides
        (4, tile(1000, 200), 2), // wide: 1000 × 9/16 = 562 > 360
        (5, tile(1280, 720), 2),
        (6, tile(3840, 2160), 2),
        (7, tile(u32::MAX, u32::MAX), 2), // absurd, clamped
        (8, tile(0, 0), 0),
        (9, View::Unknown, 2),
    ];
    let tracks = views.iter().map(|(id, v, _)| video(*id, P1, *v)).collect();
    let mut a = Allocator::new();
    a.update(Instant::now(), &inputs(kbps(100_000), tracks));
    for (id, _, expected) in views {
        assert_eq!(
            layer(&a, id),
            Some(Allocation::Layer(expected)),
            "track {id}"
        );
    }
}

#[test]
fn a_single_layer_sender_gets_its_one_layer_whatever_the_tile() {
    let one = Layer {
        bitrate: Bps::kbps(800),
        height: 720,
    };
    let track = |id, view| Track {
        id: TrackId(id),
        publisher: P1,
        media: Media::Video {
            layers: vec![one],
            view,
            screen: false,
        },
    };
    let mut a = Allocator::new();
    a.update(
        Instant::now(),
        &inputs(
            kbps(10_000),
            vec![track(1, tile(160, 90)), track(2, tile(1920, 1080))],
        ),
    );
    assert_eq!(layer(&a, 1), Some(Allocation::Layer(0)));
    assert_eq!(layer(&a, 2), Some(Allocation::Layer(0)));
}

#[test]
fn before_any_estimate_only_the_priority_video_plays_at_its_lowest_layer() {
    let tracks = vec![
        audio(1, P1),
        video(2, P1, tile(1280, 720)),
        video(3, P2, tile(1280, 720)),
    ];
    let mut i = inputs(None, tracks);
    i.speaker = Some(P2);
    let mut a = Allocator::new();
    a.update(Instant::now(), &i);
    assert_eq!(layer(&a, 1), Some(Allocation::Audio));
    assert_eq!(layer(&a, 3), Some(Allocation::Layer(0)));
    assert_eq!(layer(&a, 2), Some(NO_ROOM));
    // A zero estimate is no estimate.
    i.estimate = Some(Bps(0));
    assert!(a.update(Instant::now(), &i).is_empty());
}

#[test]
fn without_a_floor_or_speaker_no_video_plays_before_an_estimate() {
    let mut a = Allocator::new();
    a.update(
        Instant::now(),
        &inputs(None, vec![video(1, P1, tile(640, 360))]),
    );
    assert_eq!(layer(&a, 1), Some(NO_ROOM));
}

#[test]
fn the_first_estimate_is_used_at_once_with_margin() {
    let now = Instant::now();
    let tracks = vec![video(1, P1, tile(1280, 720))];
    let mut a = Allocator::new();
    a.update(now, &inputs(None, tracks.clone()));
    // Budget 1600 × 0.9 / 1.15 = 1252: the top layer, without waiting.
    let changes = a.update(now, &inputs(kbps(1600), tracks));
    assert_eq!(
        changes,
        vec![Change {
            track: TrackId(1),
            to: Allocation::Layer(2),
            needs_keyframe: true
        }]
    );
}

#[test]
fn a_new_speaker_gets_the_room_at_once_within_the_budget() {
    let start = Instant::now();
    let tracks = vec![video(1, P1, tile(1280, 720)), video(2, P2, tile(1280, 720))];
    // Budget 704; 810 usable, so the old speaker cannot keep its layer beside the new one.
    let mut i = inputs(kbps(900), tracks);
    i.speaker = Some(P1);
    let mut a = Allocator::new();
    a.update(start, &i);
    assert_eq!(
        (layer(&a, 1), layer(&a, 2)),
        (Some(Allocation::Layer(1)), Some(Allocation::Layer(0)))
    );
    i.speaker = Some(P2);
    let changes = a.update(at(start, 0.1), &i);
    // Lowering first, so the link is freed before it is used.
    let expected = vec![
        Change {
            track: TrackId(1),
            to: Allocation::Layer(0),
            needs_keyframe: true,
        },
        Change {
            track: TrackId(2),
            to: Allocation::Layer(1),
            needs_keyframe: true,
        },
    ];
    assert_eq!(changes, expected);
}

#[test]
fn tracks_that_disappear_are_forgotten() {
    let now = Instant::now();
    let mut a = Allocator::new();
    let both = vec![audio(1, P1), video(2, P1, tile(640, 360))];
    a.update(now, &inputs(kbps(5000), both.clone()));
    assert!(a
        .update(now, &inputs(kbps(5000), vec![audio(1, P1)]))
        .is_empty());
    assert_eq!(layer(&a, 2), None);
    // Back again, it is new: it gets its allocation (and a keyframe) again.
    assert_eq!(a.update(now, &inputs(kbps(5000), both)).len(), 1);
}

#[test]
fn duplicate_ids_and_videos_without_layers_are_ignored() {
    let empty = Track {
        id: TrackId(3),
        publisher: P2,
        media: Media::Video {
            layers: vec![],
            view: tile(640, 360),
            screen: false,
        },
    };
    let tracks = vec![
        audio(1, P1),
        audio(1, P2),
        empty,
        video(4, P1, tile(640, 360)),
    ];
    let mut a = Allocator::new();
    a.update(Instant::now(), &inputs(kbps(5000), tracks));
    assert_eq!(a.allocations().count(), 2);
    assert_eq!(a.probe().allocated, NOMINAL_AUDIO.plus(Bps::kbps(450)));
}

#[test]
fn the_probe_asks_for_the_next_step_up() {
    let now = Instant::now();
    let tracks = vec![audio(1, P1), video(2, P1, tile(1280, 720))];
    let mut a = Allocator::new();
    a.update(now, &inputs(kbps(400), tracks.clone())); // budget 313: the lowest layer
    assert_eq!(layer(&a, 2), Some(Allocation::Layer(0)));
    let probe = a.probe();
    assert_eq!(probe.allocated, Bps::kbps(190));
    // The next step is the middle layer: 40 + 450 with margin, over the headroom.
    assert_eq!(
        probe.desired,
        Bps::kbps(490).times_up(UP_MARGIN).over_up(HEADROOM)
    );

    // With that estimate held, the step is taken.
    let mut b = Allocator::new();
    b.update(now, &inputs(Some(probe.desired), tracks.clone()));
    assert_eq!(layer(&b, 2), Some(Allocation::Layer(1)));

    // Nothing more wanted: keep what flows.
    let mut c = Allocator::new();
    c.update(now, &inputs(kbps(10_000), tracks));
    assert_eq!(
        c.probe().desired,
        Bps::kbps(1240).times_up(UP_MARGIN).over_up(HEADROOM)
    );
}

#[test]
fn absurd_bitrates_do_not_overflow() {
    let huge = Layer {
        bitrate: Bps(u64::MAX),
        height: u32::MAX,
    };
    let tracks = vec![
        Track {
            id: TrackId(1),
            publisher: P1,
            media: Media::Audio {
                bitrate: Bps(u64::MAX),
            },
        },
        Track {
            id: TrackId(2),
            publisher: P1,
            media: Media::Video {
                layers: vec![huge; 5],
                view: tile(640, 360),
                screen: false,
            },
        },
    ];
    let mut a = Allocator::new();
    a.update(Instant::now(), &inputs(Some(Bps(u64::MAX)), tracks));
    assert_eq!(layer(&a, 1), Some(Allocation::Audio));
    assert!(a.probe().desired >= a.probe().allocated);
}

/// At the edge of the budget, rates that wobble by a few per cent must not pause and resume
/// a video every time they are measured (seen every 500 ms at 400 kbit/s).
#[test]
fn rates_that_wobble_at_the_edge_of_the_budget_move_nothing() {
    let start = Instant::now();
    let with = |audio: u64, video: u64| {
        let mut i = inputs(
            kbps(250), // budget 250 × 0.9 / 1.15 = 195
            vec![
                Track { id: TrackId(1), publisher: P1, media: Media::Audio { bitrate: Bps::kbps(audio) } },
                Track {
                    id: TrackId(2),
                    publisher: P2,
                    media: Media::Video { layers: vec![Layer { bitrate: Bps::kbps(video), height: 90 }], view: tile(160, 90), screen: false },
                },
            ],
        );
        i.floor = Some(P2);
        i
    };
    let mut a = Allocator::new();
    a.update(start, &with(100, 95));
    assert_eq!(layer(&a, 2), Some(Allocation::Layer(0)));
    for s in 1..40 {
        let (audio, video) = if s % 2 == 0 { (100, 95) } else { (104, 99) };
        assert!(a.update(at(start, s as f64 * 0.5), &with(audio, video)).is_empty(), "step {s}");
    }
    // A real rise of the video's rate counts: beyond the band, and beyond the 300 (1.2 ×
    // the estimate) that keeps the floor holder's lowest layer.
    let changes = a.update(at(start, 30.0), &with(100, 210));
    assert_eq!(changes, vec![Change { track: TrackId(2), to: NO_ROOM, needs_keyframe: false }]);
}

/// Seen after "sound only" was turned off: the budget was still the one planned during
/// sound only, the estimate had risen (but not for the hold), and the videos' measured
/// rates rose with their resume keyframes. What flows stays while the estimate carries it.
#[test]
fn what_flows_is_kept_while_the_estimate_carries_it_even_above_the_budget() {
    let start = Instant::now();
    let tracks = vec![audio(1, P1), video(2, P1, tile(320, 180)), video(3, P2, tile(320, 180))];
    let mut a = Allocator::new();
    a.update(start, &inputs(kbps(500), tracks.clone())); // budget 391: 40 + 150 + 150
    assert_eq!((layer(&a, 2), layer(&a, 3)), (Some(Allocation::Layer(0)), Some(Allocation::Layer(0))));
    // The rates rise by a third: 440 > the budget of 391, but the new estimate's usable 630
    // carries it. Nothing pauses.
    let mut higher = inputs(kbps(700), tracks.clone());
    for t in &mut higher.tracks {
        if let Media::Video { layers, .. } = &mut t.media {
            layers[0].bitrate = Bps::kbps(200);
        }
    }
    assert!(a.update(at(start, 0.5), &higher).is_empty());
    // And nothing more is taken before the hold: no second layer, though 630 would carry one.
    assert_eq!(a.probe().allocated, Bps::kbps(440));
    // Where the estimate does not carry it (usable 360 < 440), the last video pauses.
    higher.estimate = kbps(400);
    let changes = a.update(at(start, 1.0), &higher);
    assert_eq!(changes, vec![Change { track: TrackId(3), to: NO_ROOM, needs_keyframe: false }]);
}

/// Seen at 400 kbit/s: one probe reported 862 kbit/s and nothing contradicted it for the
/// hold (nothing more was sent); taken at its word it resumed every video at once and the
/// overloaded link dropped the estimate to 170, below the floor holder's. The budget rises
/// one step at a time, each needing the hold and a step's time.
#[test]
fn after_a_probes_optimism_the_plan_takes_one_step_at_a_time() {
    let start = Instant::now();
    let tracks = vec![
        audio(1, P1),
        audio(2, P2),
        audio(3, P3),
        video(4, P1, tile(320, 180)),
        video(5, P2, tile(320, 180)),
        video(6, P3, tile(320, 180)),
    ];
    let mut i = inputs(kbps(360), tracks);
    i.floor = Some(P1);
    let mut a = Allocator::new();
    a.update(start, &i); // budget 281: the voices and the floor holder's 150
    assert_eq!(a.probe().allocated, Bps::kbps(270));
    assert_eq!((layer(&a, 4), layer(&a, 5), layer(&a, 6)), (Some(Allocation::Layer(0)), Some(NO_ROOM), Some(NO_ROOM)));
    i.estimate = kbps(862);
    a.update(at(start, 1.0), &i);
    a.update(at(start, 1.0) + HOLD, &i);
    // One step: to 1.5 × 270 = 405, or the 420 the next video needs: one more video.
    assert_eq!((layer(&a, 5), layer(&a, 6)), (Some(Allocation::Layer(0)), Some(NO_ROOM)));
    assert_eq!(a.next_deadline(), Some(at(start, 1.0) + HOLD + STEP_EVERY));
    // The estimate falls before the next step: nothing more is taken.
    i.estimate = kbps(470);
    a.update(at(start, 1.5) + HOLD, &i);
    a.update(at(start, 1.0) + HOLD + STEP_EVERY, &i);
    assert_eq!((layer(&a, 5), layer(&a, 6)), (Some(Allocation::Layer(0)), Some(NO_ROOM)));
}

/// Seen at 3 Mbit/s: a resume's keyframes made GCC take 0.85 × the acknowledged rate at
/// every feedback for half a second (582 → 218 kbit/s), and each pause on the way lowered
/// the next estimate: even the floor holder's video paused and needed the hold to return.
/// Its lowest layer is kept through a fall shorter than PRIORITY_CONFIRM; the others are not.
#[test]
fn the_floor_holders_video_outlasts_a_cascade_of_back_offs() {
    let start = Instant::now();
    let tracks = vec![audio(1, P1), video(2, P1, tile(320, 180)), video(3, P2, tile(320, 180))];
    let mut i = inputs(kbps(582), tracks);
    i.floor = Some(P2);
    let mut a = Allocator::new();
    a.update(start, &i); // 40 + 2 × 150 = 340 ≤ 455
    assert_eq!(a.probe().allocated, Bps::kbps(340));
    let mut changes = Vec::new();
    for (n, e) in [391, 321, 288, 268, 246, 230, 218].into_iter().enumerate() {
        i.estimate = kbps(e);
        changes.extend(a.update(at(start, 10.0 + n as f64 * 0.08), &i));
    }
    // The other video went (1.2 × 268 < 340); the floor holder's stays (1.2 × 582 ≥ 190).
    assert_eq!(changes, vec![Change { track: TrackId(2), to: NO_ROOM, needs_keyframe: false }]);
    assert_eq!(layer(&a, 3), Some(Allocation::Layer(0)));
    // The estimate climbs back above it within the second: it never paused.
    i.estimate = kbps(240);
    assert!(a.update(at(start, 10.7), &i).is_empty());
    assert!(a.update(at(start, 12.0), &i).is_empty());
    // Had it stayed at 150 (1.2 × 150 < 190) for the second, it would pause then.
    i.estimate = kbps(150);
    assert!(a.update(at(start, 13.0), &i).is_empty());
    // (The prober's dips may come first: they change no allocation.)
    let confirm = at(start, 13.0) + PRIORITY_CONFIRM;
    while let Some(d) = a.next_deadline().filter(|d| *d < confirm) {
        assert!(a.update(d, &i).is_empty());
    }
    assert_eq!(a.next_deadline(), Some(confirm), "the fall held back has a deadline");
    assert_eq!(a.update(confirm, &i), vec![Change { track: TrackId(3), to: NO_ROOM, needs_keyframe: false }]);
}

/// The 400 kbit/s member of the probe guard's tests: three voices (120) and the floor holder
/// P2's 180p (150) flow at an estimate of 350; its 360p (450) is wanted (a step up unmet).
fn floor_holder_at_350(start: Instant) -> (Allocator, Inputs) {
    let tracks = vec![audio(1, P1), audio(2, P2), audio(3, P3), video(4, P2, tile(640, 360))];
    let mut i = inputs(kbps(350), tracks);
    i.floor = Some(P2);
    let mut a = Allocator::new();
    a.update(start, &i);
    assert_eq!(layer(&a, 4), Some(Allocation::Layer(0)));
    assert_eq!(a.probe().allocated, Bps::kbps(270));
    assert!(a.probe().desired > Bps::kbps(350), "a step up is wanted: {:?}", a.probe());
    (a, i)
}

/// The estimate falls through `estimates`, `step` apart from `from`, and stays at the last
/// until `until`, every deadline honoured meanwhile: the changes to the floor holder's video.
fn cascade(a: &mut Allocator, i: &mut Inputs, from: Instant, step: Duration, estimates: &[u64], until: Instant) -> Vec<Change> {
    let mut changes = Vec::new();
    for (n, &e) in estimates.iter().enumerate() {
        i.estimate = kbps(e);
        changes.extend(a.update(from + step * n as u32, i));
    }
    while let Some(d) = a.next_deadline().filter(|d| *d < until) {
        changes.extend(a.update(d, i));
    }
    changes.retain(|c| c.track == TrackId(4));
    changes
}

/// Seen at 400 kbit/s (weak-link, CI of 2026-12-07): the floor holder's smallest layer
/// flowed and the next step was out of reach; a probe for it (padding, then a rise of
/// `desired`) filled the queue, GCC fell from 270 to 195 kbit/s within 40 ms and stayed
/// there 4 s, past PRIORITY_CONFIRM, and the floor holder's video froze for 8 s. A fall that
/// follows a probe within PROBE_BLAME keeps it within KEEP × the calm estimate before it, for
/// PROBE_GUARD; the same fall with no probe asked for pauses it after PRIORITY_CONFIRM.
#[test]
fn a_fall_that_follows_the_allocators_own_probe_keeps_the_floor_holders_video() {
    let start = Instant::now();
    let run = |probe_before_fall: bool| {
        let (mut a, mut i) = floor_holder_at_350(start);
        // Calm at 350 for 10 s; the prober's dips and rises (each a probe) come and go.
        let mut now = start;
        let calm_until = at(start, 10.0);
        while let Some(d) = a.next_deadline().filter(|d| *d < calm_until) {
            now = d;
            assert!(a.update(now, &i).is_empty());
        }
        // The fall comes 300 ms after the last probe, or 2 s after it.
        let last_probe = a.prober.probed.expect("the step was probed for");
        let fall = if probe_before_fall { last_probe + Duration::from_millis(300) } else { last_probe + Duration::from_secs(2) };
        assert!(fall >= now);
        // 195 for 4 s, then back.
        let back = fall + Duration::from_secs(4);
        let mut changes = cascade(&mut a, &mut i, fall, Duration::from_millis(10), &[330, 300, 270, 230, 195], back);
        i.estimate = kbps(340);
        changes.extend(a.update(back, &i));
        changes.retain(|c| c.track == TrackId(4));
        changes
    };
    // 1.2 × 195 = 234 < 270: paused a second after the fall; 1.2 × 350 = 420 keeps it.
    assert_eq!(run(true), vec![], "kept through the probe's own cascade");
    assert_eq!(run(false).first(), Some(&Change { track: TrackId(4), to: NO_ROOM, needs_keyframe: false }));
}

/// Seen at 400 kbit/s with a Firefox listener: a probe's optimistic 503 kbit/s raised the
/// floor holder's video a layer, and GCC answered its keyframe and rate with 534 → 191 kbit/s
/// in 400 ms: the video paused a second later and was frozen 8 s. A step up of the plan
/// probes the link as a probe does: the cascade that follows it keeps the lowest layer.
#[test]
fn a_cascade_that_answers_a_step_up_lowers_the_floor_holders_video_but_keeps_it() {
    let start = Instant::now();
    let (mut a, mut i) = floor_holder_at_350(start);
    // The optimism: 800 kbit/s until the plan raises the video.
    i.estimate = kbps(800);
    let mut now = at(start, 10.0);
    let raised = loop {
        let changes = a.update(now, &i);
        if changes.iter().any(|c| c.track == TrackId(4) && c.to == Allocation::Layer(1)) {
            break now;
        }
        now = a.next_deadline().expect("a rise is due");
        assert!(now < at(start, 15.0), "the plan takes the step");
    };
    let from = raised + Duration::from_millis(30);
    let changes = cascade(&mut a, &mut i, from, Duration::from_millis(60), &[700, 560, 430, 330, 260, 195], raised + Duration::from_secs(4));
    assert_eq!(changes, vec![Change { track: TrackId(4), to: Allocation::Layer(0), needs_keyframe: true }]);
}

/// Seen at 400 kbit/s (weak-link, 2026-12-07, night): after padding's cascade the estimate
/// stayed at 194–217 kbit/s for 11 s while 240 kbit/s flowed with round trips of 1–5 ms. With
/// no queue on the way the guard lasts up to PROBE_GUARD_CLEAR; a queue that shows ends it
/// within a second.
#[test]
fn a_probes_guard_lasts_while_no_queue_shows_and_ends_when_one_does() {
    let start = Instant::now();
    let (mut a, mut i) = floor_holder_at_350(start);
    i.path_clear = true;
    let calm_until = at(start, 10.0);
    while let Some(d) = a.next_deadline().filter(|d| *d < calm_until) {
        a.update(d, &i);
    }
    let fall = a.prober.probed.expect("the step was probed for") + Duration::from_millis(300);
    // 12 s at 195 with a clear path: kept, looked at every second once past PROBE_GUARD.
    let queue_at = fall + Duration::from_secs(12);
    let changes = cascade(&mut a, &mut i, fall, Duration::from_millis(10), &[300, 250, 195], queue_at);
    assert_eq!(changes, vec![], "kept while the path is clear");
    assert!(a.next_deadline().is_some_and(|d| d <= queue_at + STEP_EVERY), "looked at again within a second");
    // A queue shows: the next look pauses it.
    i.path_clear = false;
    let d = a.next_deadline().unwrap();
    assert_eq!(a.update(d, &i), vec![Change { track: TrackId(4), to: NO_ROOM, needs_keyframe: false }]);
}

/// Seen at 400 kbit/s (weak-link, 2026-12-07, night): the calm window before a probe's
/// cascade held the trough of an earlier one (198 kbit/s), and a guard at 1.2 × 198 was below
/// what flowed (251): the floor holder's video paused. The guard keeps at least what flowed.
#[test]
fn a_probes_guard_keeps_what_flowed_even_when_the_calm_window_holds_an_earlier_trough() {
    let start = Instant::now();
    let (mut a, mut i) = floor_holder_at_350(start);
    // A short trough (shorter than PRIORITY_CONFIRM: nothing pauses), and back.
    i.estimate = kbps(210);
    assert!(a.update(at(start, 10.0), &i).is_empty());
    i.estimate = kbps(350);
    assert!(a.update(at(start, 10.5), &i).is_empty());
    // The next probe, and its cascade 300 ms later, within CALM of the trough.
    let mut now = at(start, 10.5);
    while a.prober.probed.is_none_or(|p| p <= at(start, 10.5)) {
        now = a.next_deadline().expect("the step is probed for again");
        a.update(now, &i);
    }
    let fall = a.prober.probed.unwrap() + Duration::from_millis(300);
    assert!(fall >= now && fall < at(start, 15.0), "the trough is within CALM of the fall");
    let changes = cascade(&mut a, &mut i, fall, Duration::from_millis(10), &[300, 250, 195], fall + Duration::from_secs(4));
    assert_eq!(changes, vec![], "kept through the cascade");
}

/// Seen at 3 Mbit/s: a fall that paused one video freed room that raised another, and back,
/// within 30 ms, each switch a keyframe feeding the estimator's next back-off. For
/// STEP_EVERY after the budget falls, videos only keep or lower what they have.
#[test]
fn after_a_fall_nothing_resumes_or_rises_until_it_settles() {
    let start = Instant::now();
    let mut tracks = vec![audio(1, P1), video(2, P1, tile(1280, 720))];
    let mut a = Allocator::new();
    a.update(start, &inputs(kbps(1200), tracks.clone())); // budget 939: 40 + 450
    assert_eq!(layer(&a, 2), Some(Allocation::Layer(1)));
    let fall = at(start, 10.0);
    assert!(a.update(fall, &inputs(kbps(760), tracks.clone())).is_empty()); // budget 912, usable 684
    // A new video would fit (490 + 150 ≤ 684), but not while the budget settles.
    tracks.push(video(3, P2, tile(320, 180)));
    a.update(fall + Duration::from_millis(200), &inputs(kbps(760), tracks.clone()));
    assert_eq!(layer(&a, 3), Some(NO_ROOM));
    assert_eq!(a.next_deadline(), Some(fall + STEP_EVERY));
    let changes = a.update(fall + STEP_EVERY, &inputs(kbps(760), tracks));
    assert_eq!(changes, vec![Change { track: TrackId(3), to: Allocation::Layer(0), needs_keyframe: true }]);
}

/// Seen at 400 kbit/s after a drop (weak-link, 2026-12-07): the floor holder's video was
/// lowered a layer, and a second later went back up on an estimate of 257 kbit/s (285
/// allocated, within 1.2 × 257, as the sound's measured rate had moved), and the sound lost
/// packets again. What KEEP tolerates after a back-off keeps what flows; nothing rises into it.
#[test]
fn after_a_back_off_nothing_rises_into_what_keep_tolerates() {
    let start = Instant::now();
    let layers = vec![Layer { bitrate: Bps::kbps(100), height: 90 }, Layer { bitrate: Bps::kbps(140), height: 180 }];
    let video = Track { id: TrackId(2), publisher: P1, media: Media::Video { layers, view: tile(320, 180), screen: false } };
    let mut i = inputs(kbps(400), vec![audio(1, P1), video]);
    i.floor = Some(P1);
    let mut a = Allocator::new();
    a.update(start, &i); // budget 313: 40 + 140
    assert_eq!(layer(&a, 2), Some(Allocation::Layer(1)));
    // Budget min(313, 1.2 × 148 = 177) < 180: lowered.
    i.estimate = kbps(148);
    a.update(at(start, 10.0), &i);
    assert_eq!(layer(&a, 2), Some(Allocation::Layer(0)));
    // Settled; the sound now measures 30 kbit/s: 30 + 140 fits the budget (177), not the
    // usable estimate (0.9 × 152 = 136).
    if let Media::Audio { bitrate } = &mut i.tracks[0].media {
        *bitrate = Bps::kbps(30);
    }
    i.estimate = kbps(152);
    assert!(a.update(at(start, 12.0), &i).is_empty());
    // The estimate carries it: not on one sample (a probe's optimism), once it has held for
    // HOLD.
    i.estimate = kbps(230);
    assert!(a.update(at(start, 13.0), &i).is_empty(), "one sample is not a rise");
    let mut now = at(start, 13.0);
    while layer(&a, 2) != Some(Allocation::Layer(1)) {
        now = a.next_deadline().expect("a rise is due");
        assert!(now <= at(start, 13.0) + HOLD + STEP_EVERY, "back once the estimate has held");
        a.update(now, &i);
    }
    assert!(now >= at(start, 13.0) + HOLD, "not before the estimate held for HOLD");
}

/// CI rehearsal of 2026-12-08 (screen-share's weak viewer, 500 kbit/s): a join's own cascade
/// took the estimate from 800 to 323 kbit/s, and a second camera waited 7 s for it to come
/// back. With no queue on the way, the tolerance after a back-off is room: it resumes.
#[test]
fn with_the_path_clear_a_video_resumes_within_what_keep_tolerates() {
    let start = Instant::now();
    let run = |clear: bool| {
        let tracks = vec![audio(1, P1), video(2, P1, tile(1280, 720))];
        let mut i = inputs(kbps(1000), tracks);
        i.path_clear = clear;
        i.floor = Some(P1);
        let mut a = Allocator::new();
        a.update(start, &i); // budget 782: 40 + 450
        i.estimate = kbps(560); // budget 672, usable 504: 490 kept
        a.update(at(start, 10.0), &i);
        // A second video: 490 + 150 fits the tolerance, not the usable estimate.
        i.tracks.push(video(3, P2, tile(320, 180)));
        a.update(at(start, 13.0), &i);
        layer(&a, 3)
    };
    assert_eq!(run(true), Some(Allocation::Layer(0)), "no queue: the link carries it");
    assert_eq!(run(false), Some(NO_ROOM), "a queue shows: only what the estimate holds");
}

/// Seen after a drop from 3 Mbit/s to 400 kbit/s (weak-link, 2026-12-07): the 30-packet queue
/// stayed full, GCC stopped backing off at 339 kbit/s, and 394 kbit/s (within 1.2 × 339) was
/// kept flowing for 10 s while the sound lost 10–20 % a second. A link that overflows (it
/// lost packets at a standing queue) gets no tolerance: the budget falls to the usable estimate.
#[test]
fn a_link_that_overflows_keeps_only_what_the_usable_estimate_carries() {
    let start = Instant::now();
    let tracks = vec![audio(1, P1), video(2, P1, tile(1280, 720)), video(3, P2, tile(320, 180))];
    let mut i = inputs(kbps(1000), tracks);
    i.floor = Some(P1);
    let mut a = Allocator::new();
    a.update(start, &i); // budget 782: 40 + 450 + 150
    assert_eq!((layer(&a, 2), layer(&a, 3)), (Some(Allocation::Layer(1)), Some(Allocation::Layer(0))));
    // Budget min(782, 1.2 × 600 = 720): the 640 that flows is kept.
    i.estimate = kbps(600);
    assert!(a.update(at(start, 10.0), &i).is_empty());
    // The sound loses packets at a standing queue: budget 540, so the lesser video pauses.
    i.overflowing = true;
    let changes = a.update(at(start, 11.0), &i);
    assert_eq!(changes, vec![Change { track: TrackId(3), to: NO_ROOM, needs_keyframe: false }]);
    assert_eq!(layer(&a, 2), Some(Allocation::Layer(1)));
    // While it overflows, nothing is probed for, and the budget does not rise.
    assert_eq!(a.probe().desired, a.probe().allocated);
    assert!(!a.probe().pad);
    i.estimate = kbps(1000);
    for s in [12.0, 13.0, 14.0, 15.0] {
        assert!(a.update(at(start, s), &i).is_empty(), "no rise while it overflows");
    }
    // The overflow is over: the held estimate raises it again.
    i.overflowing = false;
    let changes = a.update(at(start, 15.5), &i);
    assert_eq!(changes, vec![Change { track: TrackId(3), to: Allocation::Layer(0), needs_keyframe: true }]);
}
