//! Facilitator controls as people in a meeting observe them: the SFU stops forwarding what a
//! facilitator turned off however hard the client keeps sending, and the server refuses
//! whatever the rules refuse, with the documented codes.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use haven::config::Config;
use haven_tests::{
    create_room_with_key, start_server_with, wait_until, Kind, NewRoom, Participant, RunningServer,
    SignalingClient, WAIT,
};
use serde_json::{json, Value};

/// How long a flow must stay silent to count as stopped.
const QUIET: Duration = Duration::from_secs(1);
/// About a second of the test client's 50-a-second audio.
const AUDIO_SECOND: u64 = 50;

/// A room with its facilitator Fay and the members Mo and Oli, all three publishing.
struct Meeting {
    server: RunningServer,
    room: NewRoom,
    fay: Participant,
    mo: Participant,
    oli: Participant,
}

impl Meeting {
    async fn start(adjust: impl FnOnce(&mut Config)) -> Result<Meeting> {
        let server = start_server_with(adjust).await;
        let room = create_room_with_key(&server).await?;
        let fay = join_as_facilitator(&server, &room, "Fay").await?;
        let mo = Participant::join(server.http_addr(), &room.id, "Mo").await?;
        let oli = Participant::join(server.http_addr(), &room.id, "Oli").await?;
        Ok(Meeting {
            server,
            room,
            fay,
            mo,
            oli,
        })
    }

    fn everyone(&self) -> [&Participant; 3] {
        [&self.fay, &self.mo, &self.oli]
    }

    async fn end(self) {
        self.server.shutdown().await;
    }
}

async fn join_as_facilitator(
    server: &RunningServer,
    room: &NewRoom,
    name: &str,
) -> Result<Participant> {
    let fields = json!({"key": room.facilitator_key});
    let p = Participant::join_as(server.http_addr(), &room.id, name, &fields).await?;
    ensure!(
        p.joined["you"]["role"] == "facilitator",
        "joining with the key from facilitator_url makes a facilitator: {}",
        p.joined
    );
    Ok(p)
}

fn errors_with_code(p: &Participant, code: &str) -> usize {
    p.errors().iter().filter(|e| e["code"] == code).count()
}

/// Sends `message` as `p` and waits for one more `error` with `code` than before.
async fn expect_error(p: &Participant, message: Value, code: &str) -> Result<Value> {
    let before = errors_with_code(p, code);
    p.send(&message)?;
    wait_until(
        WAIT,
        &format!("{}: error {code} for {message}", p.name),
        || errors_with_code(p, code) > before,
        || p.describe(),
    )
    .await?;
    let error = p
        .errors()
        .into_iter()
        .filter(|e| e["code"] == code)
        .nth(before);
    let error = error.context("the error just counted")?;
    ensure!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "an error carries a sentence for people: {error}"
    );
    Ok(error)
}

/// Waits until `observer` sees `who` described with `field == value` in a message after the
/// first `since` (so an older update cannot answer for a newer change).
async fn wait_participant(
    observer: &Participant,
    since: usize,
    who: &Participant,
    field: &str,
    value: Value,
) -> Result<()> {
    wait_until(
        WAIT,
        &format!(
            "{}: participant_updated for {} with {field} = {value}",
            observer.name, who.name
        ),
        || {
            observer.messages().iter().skip(since).any(|m| {
                m["type"] == "participant_updated"
                    && m["participant"]["id"] == who.id.as_str()
                    && m["participant"][field] == value
            })
        },
        || observer.describe(),
    )
    .await
}

/// How many messages `p` has had so far; a mark for [`wait_participant`].
fn mark(p: &Participant) -> usize {
    p.messages().len()
}

/// Waits until `who` has sent another second of audio, so "nothing arrived" covers it.
async fn wait_sent_another_second(who: &Participant) -> Result<()> {
    let before = who.sent().audio_packets;
    wait_until(
        WAIT,
        &format!("{} to send another second of audio", who.name),
        || who.sent().audio_packets >= before + AUDIO_SECOND,
        || who.describe(),
    )
    .await
}

/// Only the listed error codes, nothing else.
fn check_only_errors(p: &Participant, codes: &[&str]) -> Result<()> {
    let unexpected: Vec<Value> = p
        .errors()
        .into_iter()
        .filter(|e| !codes.iter().any(|c| e["code"] == *c))
        .collect();
    ensure!(
        unexpected.is_empty(),
        "{} got unexpected errors {unexpected:?}\n{}",
        p.name,
        p.describe()
    );
    Ok(())
}

/// The id the facilitator's waiting list gives `name`, once it lists them.
async fn waiting_id(facilitator: &Participant, name: &str) -> Result<String> {
    let list = facilitator
        .wait_message(&format!("{name} in the waiting list"), |m| {
            m["type"] == "waiting_list" && m["waiting"].as_array().is_some_and(|w| w.iter().any(|x| x["name"] == name))
        })
        .await?;
    let id = list["waiting"]
        .as_array()
        .and_then(|w| w.iter().find(|x| x["name"] == name))
        .and_then(|x| x["id"].as_str())
        .with_context(|| format!("waiting_list gives {name} an id"))?;
    Ok(id.to_string())
}

/// Admitted while its socket was down, a newcomer resumes with a new peer connection and
/// offers it; the server's first offer, never answered, is not sent again to cross it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admitted_while_its_socket_was_down_a_newcomer_resumes_and_connects() -> Result<()> {
    let server = start_server_with(|c| c.rooms.reconnect_grace_seconds = 30).await;
    let room = create_room_with_key(&server).await?;
    let addr = server.http_addr();
    let fay = join_as_facilitator(&server, &room, "Fay").await?;
    fay.send(&json!({"type": "update_settings", "settings": {"waiting_room": true}}))?;
    fay.wait_message("the waiting room on", |m| m["type"] == "room_updated" && m["room"]["waiting_room"] == true)
        .await?;

    let mut wen = SignalingClient::connect(addr).await?;
    let waiting = wen.try_join(&room.id, "Wen", json!({})).await?;
    let key = waiting["resume_key"].as_str().context("waiting carries a resume_key")?.to_string();
    let wen_id = waiting_id(&fay, "Wen").await?;

    // Her phone loses the network; she is let in meanwhile (the first offer goes nowhere).
    drop(wen);
    tokio::time::sleep(Duration::from_millis(300)).await;
    fay.send(&json!({"type": "admit", "id": wen_id}))?;
    fay.wait_message("Wen admitted", |m| m["type"] == "participant_joined" && m["participant"]["id"] == wen_id.as_str())
        .await?;

    let mut again = SignalingClient::connect(addr).await?;
    again.send(&json!({"type": "resume", "room": room.id, "resume_key": key})).await?;
    let wen = Participant::when_admitted(again, &room.id, "Wen").await?;
    ensure!(wen.joined["resumed"] == true, "{}", wen.joined);
    wen.wait_receiving_from(&[&fay.id]).await?;
    fay.wait_receiving_from(&[&wen.id]).await?;
    wen.check_invariants()?;
    fay.check_invariants()?;
    server.shutdown().await;
    Ok(())
}

fn loopback(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn muted_member_audio_is_not_forwarded_while_they_keep_sending_nor_after_they_try_to_unmute(
) -> Result<()> {
    let meeting = Meeting::start(|_| {}).await?;
    let Meeting { fay, mo, oli, .. } = &meeting;
    oli.wait_receiving_from(&[&mo.id]).await?;

    let since = mark(oli);
    fay.send(&json!({"type": "mute", "id": mo.id}))?;
    let muted = mo.wait_message("muted", |m| m["type"] == "muted").await?;
    ensure!(
        muted["message"].as_str().is_some_and(|m| !m.is_empty()),
        "the muted person is told in words: {muted}"
    );
    wait_participant(oli, since, mo, "audio", json!(false)).await?;
    let heard = oli.wait_flow_stopped(&mo.id, Kind::Audio, QUIET).await?;

    // Mo's client never stopped: another second of audio leaves it, none reaches Oli, and
    // Mo's video still does.
    wait_sent_another_second(mo).await?;
    oli.wait_flow_rising(&mo.id, Kind::Video).await?;
    let now = oli.received_from(&mo.id).audio_packets;
    ensure!(
        now == heard,
        "Oli got {} audio packets from muted Mo\n{}\n{}",
        now - heard,
        oli.describe(),
        mo.describe()
    );

    // The mute holds though the room lets members unmute: Mo's own unmute is refused and
    // the SFU keeps dropping what his client sends (#20 item 9).
    let refused = expect_error(mo, json!({"type": "media_state", "audio": true}), "muted_by_facilitator").await?;
    ensure!(
        refused["message"].as_str().is_some_and(|m| m.starts_with("A facilitator muted you.")),
        "Mo is told why: {refused}"
    );
    wait_sent_another_second(mo).await?;
    oli.wait_flow_rising(&mo.id, Kind::Video).await?;
    let now = oli.received_from(&mo.id).audio_packets;
    ensure!(
        now == heard,
        "Oli got {} audio packets from Mo after his refused unmute\n{}",
        now - heard,
        oli.describe()
    );

    // Until a facilitator lets him speak again.
    let since = (mark(mo), mark(oli));
    fay.send(&json!({"type": "set_unmute_permission", "id": mo.id, "permission": "follow_room"}))?;
    wait_participant(mo, since.0, mo, "muted_by_facilitator", json!(false)).await?;
    mo.send(&json!({"type": "media_state", "audio": true}))?;
    wait_participant(oli, since.1, mo, "audio", json!(true)).await?;
    oli.wait_flow_rising(&mo.id, Kind::Audio).await?;
    for p in meeting.everyone() {
        p.check_invariants()?;
    }
    check_only_errors(mo, &["muted_by_facilitator"])?;
    ensure!(errors_with_code(mo, "muted_by_facilitator") == 1, "one refusal\n{}", mo.describe());
    fay.check_no_errors()?;
    oli.check_no_errors()?;
    meeting.end().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_cannot_unmute_when_self_unmute_is_disallowed_until_a_facilitator_allows_it(
) -> Result<()> {
    let meeting = Meeting::start(|c| c.room_defaults.members_may_unmute = false).await?;
    let Meeting { fay, mo, oli, .. } = &meeting;
    // Joining, Mo asked for mic and camera together and was refused both; the camera alone
    // is fine, and shows Oli is connected to Mo's stream.
    ensure!(
        errors_with_code(mo, "cannot_unmute") == 1,
        "Mo's first unmute is refused: {}",
        mo.describe()
    );
    mo.send(&json!({"type": "media_state", "video": true}))?;
    oli.wait_flow_rising(&mo.id, Kind::Video).await?;

    expect_error(
        mo,
        json!({"type": "media_state", "audio": true}),
        "cannot_unmute",
    )
    .await?;
    wait_sent_another_second(mo).await?;
    oli.wait_flow_rising(&mo.id, Kind::Video).await?;
    let got = oli.received_from(&mo.id);
    ensure!(
        got.audio_packets == 0,
        "Oli got Mo's audio though Mo may not unmute\n{}\n{}",
        oli.describe(),
        mo.describe()
    );

    let since = (mark(mo), mark(oli));
    fay.send(&json!({"type": "set_unmute_permission", "id": mo.id, "permission": "allowed"}))?;
    wait_participant(mo, since.0, mo, "may_unmute", json!(true)).await?;
    mo.send(&json!({"type": "media_state", "audio": true}))?;
    wait_participant(oli, since.1, mo, "audio", json!(true)).await?;
    oli.wait_flow_rising(&mo.id, Kind::Audio).await?;

    for p in meeting.everyone() {
        p.check_invariants()?;
    }
    check_only_errors(mo, &["cannot_unmute"])?;
    ensure!(
        errors_with_code(mo, "cannot_unmute") == 2,
        "allowed, Mo's unmute is not refused\n{}",
        mo.describe()
    );
    // Oli's own joining unmute met the same rule.
    check_only_errors(oli, &["cannot_unmute"])?;
    fay.check_no_errors()?;
    meeting.end().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_camera_is_not_forwarded_and_cannot_restart_until_allowed() -> Result<()> {
    let meeting = Meeting::start(|_| {}).await?;
    let Meeting { fay, mo, oli, .. } = &meeting;
    oli.wait_receiving_from(&[&mo.id]).await?;

    let since = mark(oli);
    fay.send(&json!({"type": "stop_camera", "id": mo.id}))?;
    let told = mo
        .wait_message("camera_stopped", |m| m["type"] == "camera_stopped")
        .await?;
    ensure!(
        told["message"].as_str().is_some_and(|m| !m.is_empty()),
        "Mo is told in words: {told}"
    );
    wait_participant(oli, since, mo, "camera_stopped", json!(true)).await?;
    let seen = oli.wait_flow_stopped(&mo.id, Kind::Video, QUIET).await?;
    oli.wait_flow_rising(&mo.id, Kind::Audio).await?;

    expect_error(
        mo,
        json!({"type": "media_state", "video": true}),
        "camera_stopped",
    )
    .await?;
    wait_sent_another_second(mo).await?;
    oli.wait_flow_rising(&mo.id, Kind::Audio).await?;
    let now = oli.received_from(&mo.id).video_packets;
    ensure!(
        now == seen,
        "Oli got {} video packets from Mo's stopped camera\n{}\n{}",
        now - seen,
        oli.describe(),
        mo.describe()
    );

    let since = (mark(mo), mark(oli));
    fay.send(&json!({"type": "allow_camera", "id": mo.id}))?;
    wait_participant(mo, since.0, mo, "camera_stopped", json!(false)).await?;
    let keyframes = oli.received_from(&mo.id).video_keyframes;
    mo.send(&json!({"type": "media_state", "video": true}))?;
    wait_participant(oli, since.1, mo, "video", json!(true)).await?;
    oli.wait_flow_rising(&mo.id, Kind::Video).await?;
    // A picture, not just packets: a decoder needs a fresh keyframe after the gap.
    wait_until(
        WAIT,
        "Oli to get a keyframe from Mo's restarted camera",
        || oli.received_from(&mo.id).video_keyframes > keyframes,
        || format!("{}\n{}", oli.describe(), mo.describe()),
    )
    .await?;

    for p in meeting.everyone() {
        p.check_invariants()?;
    }
    check_only_errors(mo, &["camera_stopped"])?;
    fay.check_no_errors()?;
    oli.check_no_errors()?;
    meeting.end().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_and_banned_client_reconnecting_with_the_same_token_is_refused_with_banned(
) -> Result<()> {
    let meeting = Meeting::start(|_| {}).await?;
    let Meeting {
        server,
        room,
        fay,
        mo,
        oli,
    } = &meeting;
    let addr = server.http_addr();
    oli.wait_receiving_from(&[&mo.id]).await?;
    let token = mo.joined["token"]
        .as_str()
        .context("joined carries a token")?
        .to_string();

    fay.send(&json!({"type": "remove", "id": mo.id, "ban": true}))?;
    let closed = mo.wait_message("closed", |m| m["type"] == "closed").await?;
    ensure!(
        closed["code"] == "banned",
        "Mo's session ends as banned: {closed}"
    );
    let left = oli
        .wait_message("participant_left for Mo", |m| {
            m["type"] == "participant_left" && m["id"] == mo.id.as_str()
        })
        .await?;
    ensure!(
        left["reason"] == "removed",
        "Oli is told Mo was removed: {left}"
    );
    let last = oli.wait_stopped_from(&mo.id, QUIET).await?;
    oli.wait_still_receiving_from(&fay.id).await?;
    let after = oli.received_from(&mo.id);
    ensure!(
        (after.audio_packets, after.video_packets) == (last.audio_packets, last.video_packets),
        "Mo's media keeps reaching Oli after the ban\n{}",
        oli.describe()
    );

    // From another address the token alone must give Mo away.
    let mut again = SignalingClient::connect_from(addr, loopback(2)).await?;
    let answer = again.try_join(&room.id, "Mo", json!({"token": token})).await?;
    ensure!(
        answer["type"] == "error" && answer["code"] == "banned",
        "Mo's token is refused with banned, got {answer}"
    );
    // The same address without the token is remembered, but only waits for the
    // facilitators: a household or a carrier may share one address.
    let mut bare = SignalingClient::connect(addr).await?;
    let answer = bare.try_join(&room.id, "Mo", json!({})).await?;
    ensure!(
        answer["type"] == "waiting",
        "Mo's address sends the arrival to the waiting room, got {answer}"
    );
    // Someone else, elsewhere, still gets in: the refusals above were about Mo.
    let mut stranger = SignalingClient::connect_from(addr, loopback(3)).await?;
    let answer = stranger.try_join(&room.id, "Sol", json!({})).await?;
    ensure!(answer["type"] == "joined", "a stranger joins, got {answer}");

    fay.check_invariants()?;
    oli.check_invariants()?;
    fay.check_no_errors()?;
    oli.check_no_errors()?;
    meeting.end().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_room_refuses_a_new_client_with_room_locked() -> Result<()> {
    let server = start_server_with(|_| {}).await;
    let room = create_room_with_key(&server).await?;
    let fay = join_as_facilitator(&server, &room, "Fay").await?;

    fay.send(&json!({"type": "lock"}))?;
    fay.wait_message("room_updated locked", |m| {
        m["type"] == "room_updated" && m["room"]["locked"] == true
    })
    .await?;
    let mut newcomer = SignalingClient::connect(server.http_addr()).await?;
    let answer = newcomer.try_join(&room.id, "Ned", json!({})).await?;
    ensure!(
        answer["type"] == "error" && answer["code"] == "room_locked",
        "a locked room refuses with room_locked, got {answer}"
    );

    // Unlocked, the same socket gets in, and only then does Fay see an arrival.
    ensure!(
        !fay.messages()
            .iter()
            .any(|m| m["type"] == "participant_joined"),
        "Fay saw an arrival in a locked room: {}",
        fay.describe()
    );
    fay.send(&json!({"type": "unlock"}))?;
    fay.wait_message("room_updated unlocked", |m| {
        m["type"] == "room_updated" && m["room"]["locked"] == false
    })
    .await?;
    let answer = newcomer.try_join(&room.id, "Ned", json!({})).await?;
    ensure!(
        answer["type"] == "joined",
        "an unlocked room admits, got {answer}"
    );
    fay.wait_message("participant_joined for Ned", |m| {
        m["type"] == "participant_joined" && m["participant"]["name"] == "Ned"
    })
    .await?;
    fay.check_invariants()?;
    fay.check_no_errors()?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_room_admit_flow() -> Result<()> {
    let server = start_server_with(|_| {}).await;
    let room = create_room_with_key(&server).await?;
    let addr = server.http_addr();
    let fay = join_as_facilitator(&server, &room, "Fay").await?;
    let oli = Participant::join(addr, &room.id, "Oli").await?;

    fay.send(&json!({"type": "update_settings", "settings": {"waiting_room": true}}))?;
    oli.wait_message("room_updated with the waiting room on", |m| {
        m["type"] == "room_updated" && m["room"]["waiting_room"] == true
    })
    .await?;

    let mut wen = SignalingClient::connect(addr).await?;
    let waiting = wen.try_join(&room.id, "Wen", json!({})).await?;
    ensure!(
        waiting["type"] == "waiting"
            && waiting["token"].is_string()
            && waiting["message"].as_str().is_some_and(|m| !m.is_empty()),
        "an arrival waits with a friendly message, got {waiting}"
    );
    let wen_id = waiting_id(&fay, "Wen").await?;

    wen.send(&json!({"type": "offer", "sdp": "v=0\r\n"}))
        .await?;
    let (refused, _) = wen.recv_type("error").await?;
    ensure!(
        refused["code"] == "not_admitted",
        "an offer from the waiting room is refused with not_admitted, got {refused}"
    );
    ensure!(
        !oli.messages()
            .iter()
            .any(|m| m["type"] == "participant_joined"),
        "Oli saw Wen arrive before admission: {}",
        oli.describe()
    );

    let admitted = tokio::spawn({
        let room = room.id.clone();
        async move { Participant::when_admitted(wen, &room, "Wen").await }
    });
    fay.send(&json!({"type": "admit", "id": wen_id}))?;
    let wen = admitted.await.context("Wen's join task panicked")??;
    ensure!(
        wen.joined["you"]["id"] == wen_id.as_str(),
        "Wen joins under the id the waiting list showed: {}",
        wen.joined
    );
    fay.wait_receiving_from(&[&wen.id]).await?;
    oli.wait_receiving_from(&[&wen.id]).await?;
    wen.wait_receiving_from(&[&fay.id, &oli.id]).await?;

    // Another arrival is turned away.
    let mut xan = SignalingClient::connect(addr).await?;
    let waiting = xan.try_join(&room.id, "Xan", json!({})).await?;
    ensure!(waiting["type"] == "waiting", "Xan waits, got {waiting}");
    let xan_id = waiting_id(&fay, "Xan").await?;
    fay.send(&json!({"type": "deny", "id": xan_id}))?;
    let (closed, _) = xan.recv_type("closed").await?;
    ensure!(
        closed["code"] == "denied",
        "Xan is turned away with denied: {closed}"
    );
    fay.wait_message("waiting_list empty again", |m| {
        m["type"] == "waiting_list" && m["waiting"].as_array().is_some_and(Vec::is_empty)
    })
    .await?;
    ensure!(
        !oli.messages()
            .iter()
            .any(|m| m["type"] == "participant_joined" && m["participant"]["name"] == "Xan"),
        "Oli saw denied Xan arrive: {}",
        oli.describe()
    );

    for p in [&fay, &oli, &wen] {
        p.check_invariants()?;
        p.check_no_errors()?;
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_floor_grants_unmute() -> Result<()> {
    let meeting = Meeting::start(|c| c.room_defaults.members_may_unmute = false).await?;
    let Meeting { fay, mo, oli, .. } = &meeting;
    // Mo's joining mic-and-camera was refused as a whole; the camera alone is allowed.
    mo.send(&json!({"type": "media_state", "video": true}))?;
    oli.wait_flow_rising(&mo.id, Kind::Video).await?;

    mo.send(&json!({"type": "raise_hand"}))?;
    for p in meeting.everyone() {
        p.wait_message("queue with Mo first", |m| {
            m["type"] == "queue"
                && m["queue"] == json!([{"id": mo.id, "name": "Mo", "position": 1}])
        })
        .await?;
    }
    expect_error(
        mo,
        json!({"type": "media_state", "audio": true}),
        "cannot_unmute",
    )
    .await?;

    fay.send(&json!({"type": "call_next"}))?;
    for p in meeting.everyone() {
        p.wait_message("floor_given to Mo", |m| {
            m["type"] == "floor_given" && m["floor"]["id"] == mo.id.as_str()
        })
        .await?;
    }
    ensure!(
        oli.received_from(&mo.id).audio_packets == 0,
        "Oli heard Mo before Mo unmuted\n{}",
        oli.describe()
    );
    let since = mark(oli);
    mo.send(&json!({"type": "media_state", "audio": true}))?;
    wait_participant(oli, since, mo, "audio", json!(true)).await?;
    oli.wait_flow_rising(&mo.id, Kind::Audio).await?;

    let since = (mark(oli), mark(mo));
    mo.send(&json!({"type": "done"}))?;
    for p in meeting.everyone() {
        let taken = p
            .wait_message("floor_taken from Mo", |m| {
                m["type"] == "floor_taken" && m["id"] == mo.id.as_str()
            })
            .await?;
        ensure!(
            taken["reason"] == "done",
            "{}: Mo's share ended as done: {taken}",
            p.name
        );
    }
    // The floor taken back, Mo is muted again, and everyone's screen says so.
    wait_participant(oli, since.0, mo, "audio", json!(false)).await?;
    wait_participant(mo, since.1, mo, "audio", json!(false)).await?;
    let heard = oli.wait_flow_stopped(&mo.id, Kind::Audio, QUIET).await?;
    wait_sent_another_second(mo).await?;
    oli.wait_flow_rising(&mo.id, Kind::Video).await?;
    ensure!(
        oli.received_from(&mo.id).audio_packets == heard,
        "Oli still hears Mo after the share ended\n{}",
        oli.describe()
    );

    for p in meeting.everyone() {
        p.check_invariants()?;
    }
    check_only_errors(mo, &["cannot_unmute"])?;
    check_only_errors(oli, &["cannot_unmute"])?;
    fay.check_no_errors()?;
    meeting.end().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_cannot_mute_lock_admit_remove_or_call_next() -> Result<()> {
    let meeting = Meeting::start(|_| {}).await?;
    let Meeting {
        server,
        room,
        fay,
        mo,
        oli,
    } = &meeting;
    fay.wait_receiving_from(&[&oli.id]).await?;
    oli.send(&json!({"type": "raise_hand"}))?;
    mo.wait_message("queue with Oli", |m| {
        m["type"] == "queue" && m["queue"].as_array().is_some_and(|q| q.len() == 1)
    })
    .await?;

    for command in [
        json!({"type": "mute", "id": oli.id}),
        json!({"type": "lock"}),
        json!({"type": "admit", "id": oli.id}),
        json!({"type": "remove", "id": oli.id}),
        json!({"type": "call_next"}),
    ] {
        expect_error(mo, command, "not_permitted").await?;
    }

    // Nothing happened: Oli is still heard and present, nobody got the floor, the room is
    // open.
    fay.wait_flow_rising(&oli.id, Kind::Audio).await?;
    let mut newcomer = SignalingClient::connect(server.http_addr()).await?;
    let answer = newcomer.try_join(&room.id, "Ned", json!({})).await?;
    ensure!(
        answer["type"] == "joined",
        "the room is not locked, got {answer}"
    );
    for p in meeting.everyone() {
        let happened: Vec<Value> = p
            .messages()
            .iter()
            .filter(|m| {
                matches!(m["type"].as_str(), Some("floor_given" | "muted" | "closed"))
                    || (m["type"] == "participant_left")
                    || (m["type"] == "room_updated" && m["room"]["locked"] == true)
            })
            .cloned()
            .collect();
        ensure!(
            happened.is_empty(),
            "{} saw a member's command take effect: {happened:?}",
            p.name
        );
        ensure!(p.socket_ended().is_none(), "{}'s socket ended", p.name);
        p.check_invariants()?;
    }
    check_only_errors(mo, &["not_permitted"])?;
    ensure!(
        errors_with_code(mo, "not_permitted") == 5,
        "one not_permitted per command\n{}",
        mo.describe()
    );
    fay.check_no_errors()?;
    oli.check_no_errors()?;
    meeting.end().await;
    Ok(())
}
