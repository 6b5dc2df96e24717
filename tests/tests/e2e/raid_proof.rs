//! Issue #20's raid rules as a raider meets them on the wire: an ended meeting stays ended
//! (a standing one starts again but keeps its bans), a late joiner does not read what was
//! said before they came, and a facilitator's mute holds until a facilitator lets the person
//! speak again, at the SFU too.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{ensure, Context, Result};
use haven::config::DeclaredRoom;
use haven_tests::{create_room_with_key, start_server_with, SignalingClient};
use serde_json::{json, Value};

/// A declared (standing) room's secret and its SHA-256, as an operator writes it in the file.
const TUESDAY_KEY: &str = "tuesday-secret";
const TUESDAY_KEY_SHA256: &str = "e55a89cf02c78f9db4d9fc6bc0ba75127c53507061f7e51ae6bf897061f2c88d";

fn loopback(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// Connects from `from` and joins; fails unless admitted.
async fn joined(
    addr: std::net::SocketAddr,
    from: u8,
    room: &str,
    name: &str,
    fields: Value,
) -> Result<(SignalingClient, Value)> {
    let mut socket = SignalingClient::connect_from(addr, loopback(from)).await?;
    let answer = socket.try_join(room, name, fields).await?;
    ensure!(answer["type"] == "joined", "{name} joins, got {answer}");
    Ok((socket, answer))
}

/// Waits for the session's `closed` and checks its code.
async fn closed_with(socket: &mut SignalingClient, who: &str, code: &str) -> Result<()> {
    let (closed, _) = socket
        .recv_type("closed")
        .await
        .with_context(|| format!("{who}'s session closing"))?;
    ensure!(
        closed["code"] == code,
        "{who}'s session ends with {code}: {closed}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_adhoc_meeting_stays_ended_when_a_raider_comes_back() -> Result<()> {
    let server = start_server_with(|_| {}).await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let key = json!({"key": room.facilitator_key});
    let (mut fay, _) = joined(addr, 1, &room.id, "Fay", key.clone()).await?;
    let (mut rex, rex_joined) = joined(addr, 2, &room.id, "Rex", json!({})).await?;
    let token = rex_joined["token"]
        .as_str()
        .context("joined carries a token")?
        .to_string();

    fay.send(&json!({"type": "end_meeting"})).await?;
    closed_with(&mut fay, "Fay", "meeting_ended").await?;
    closed_with(&mut rex, "Rex", "meeting_ended").await?;

    // The raider walks back in on the same link: with his token, with none from elsewhere.
    for (from, name, fields) in [(2, "Rex", json!({"token": token})), (3, "Rox", json!({}))] {
        let mut again = SignalingClient::connect_from(addr, loopback(from)).await?;
        let answer = again.try_join(&room.id, name, fields).await?;
        ensure!(
            answer["type"] == "error" && answer["code"] == "meeting_ended",
            "{name} is told the meeting has ended, got {answer}"
        );
        ensure!(
            answer["message"] == "This meeting has ended.",
            "with a sentence for people: {answer}"
        );
    }
    // Not even the facilitator link opens it again: an ad-hoc link was for that meeting.
    let mut fay_again = SignalingClient::connect_from(addr, loopback(1)).await?;
    let answer = fay_again.try_join(&room.id, "Fay", key).await?;
    ensure!(
        answer["code"] == "meeting_ended",
        "the ended meeting stays ended, got {answer}"
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standing_meeting_started_again_keeps_the_ban_of_the_meeting_that_ended() -> Result<()> {
    let server = start_server_with(|c| {
        c.declared_rooms.push(DeclaredRoom {
            id: "tuesday".into(),
            title: "Tuesday evening".into(),
            facilitator_key_sha256: TUESDAY_KEY_SHA256.into(),
            ..Default::default()
        })
    })
    .await;
    let addr = server.http_addr();
    let key = json!({"key": TUESDAY_KEY});
    let (mut fay, _) = joined(addr, 1, "tuesday", "Fay", key.clone()).await?;
    let (mut rex, rex_joined) = joined(addr, 2, "tuesday", "Rex", json!({})).await?;
    let token = rex_joined["token"]
        .as_str()
        .context("joined carries a token")?
        .to_string();
    let rex_id = rex_joined["you"]["id"]
        .as_str()
        .context("joined.you.id")?
        .to_string();

    fay.send(&json!({"type": "remove", "id": rex_id, "ban": true}))
        .await?;
    closed_with(&mut rex, "Rex", "banned").await?;
    fay.send(&json!({"type": "end_meeting"})).await?;
    closed_with(&mut fay, "Fay", "meeting_ended").await?;

    // The group meets again the same day: the facilitator and a member get in...
    let (_fay, _) = joined(addr, 1, "tuesday", "Fay", key).await?;
    let (_mia, mia_joined) = joined(addr, 4, "tuesday", "Mia", json!({})).await?;
    ensure!(
        mia_joined["chat"] == json!([])
            && mia_joined["participants"]
                .as_array()
                .is_some_and(|p| p.len() == 1),
        "a new meeting: only Fay is there and nothing was said: {mia_joined}"
    );
    // ...and the raider banned at the end of the last one does not.
    let mut again = SignalingClient::connect_from(addr, loopback(3)).await?;
    let answer = again.try_join("tuesday", "Rex", json!({"token": token})).await?;
    ensure!(
        answer["type"] == "error" && answer["code"] == "banned",
        "Rex's token is still banned, got {answer}"
    );
    server.shutdown().await;
    Ok(())
}

/// Admits `name` from the waiting room: Fay reads their id off her waiting list.
async fn admit(fay: &mut SignalingClient, name: &str) -> Result<()> {
    loop {
        let (list, _) = fay.recv_type("waiting_list").await?;
        let waiter = list["waiting"]
            .as_array()
            .and_then(|w| w.iter().find(|x| x["name"] == name));
        if let Some(id) = waiter.and_then(|x| x["id"].as_str()) {
            return fay.send(&json!({"type": "admit", "id": id})).await;
        }
    }
}

fn chat_texts(joined: &Value) -> Vec<&str> {
    let chat = joined["chat"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    chat.iter().filter_map(|m| m["text"].as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raider_let_in_late_reads_nothing_said_before_unless_the_facilitators_share_it(
) -> Result<()> {
    let server = start_server_with(|c| c.room_defaults.waiting_room = true).await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let (mut fay, _) = joined(
        addr,
        1,
        &room.id,
        "Fay",
        json!({"key": room.facilitator_key}),
    )
    .await?;
    let mut mo = SignalingClient::connect_from(addr, loopback(2)).await?;
    ensure!(
        mo.try_join(&room.id, "Mo", json!({})).await?["type"] == "waiting",
        "Mo waits"
    );
    admit(&mut fay, "Mo").await?;
    mo.recv_type("joined").await?;

    mo.send(&json!({"type": "chat", "text": "I relapsed last week"}))
        .await?;
    mo.recv_type("chat").await?;
    let mut rex = SignalingClient::connect_from(addr, loopback(3)).await?;
    ensure!(
        rex.try_join(&room.id, "Rex", json!({})).await?["type"] == "waiting",
        "Rex waits"
    );
    admit(&mut fay, "Rex").await?;
    let (rex_joined, _) = rex.recv_type("joined").await?;
    ensure!(
        rex_joined["chat"] == json!([]) && rex_joined["room"]["share_earlier_chat"] == false,
        "Rex, let in after it was said, reads none of it: {rex_joined}"
    );
    // What is said from now on reaches him as it does everyone.
    mo.send(&json!({"type": "chat", "text": "anyway, welcome"}))
        .await?;
    let (said, _) = rex.recv_type("chat").await?;
    ensure!(
        said["message"]["text"] == "anyway, welcome",
        "Rex reads what is said after: {said}"
    );

    // A group that wants newcomers to catch up says so, live.
    fay.send(&json!({"type": "update_settings", "settings": {"share_earlier_chat": true}}))
        .await?;
    loop {
        let (updated, _) = fay.recv_type("room_updated").await?;
        if updated["room"]["share_earlier_chat"] == true {
            break;
        }
    }
    let mut kim = SignalingClient::connect_from(addr, loopback(4)).await?;
    ensure!(
        kim.try_join(&room.id, "Kim", json!({})).await?["type"] == "waiting",
        "Kim waits"
    );
    admit(&mut fay, "Kim").await?;
    let (kim_joined, _) = kim.recv_type("joined").await?;
    ensure!(
        chat_texts(&kim_joined) == ["I relapsed last week", "anyway, welcome"],
        "with earlier chat shared, Kim gets the recent history: {kim_joined}"
    );
    server.shutdown().await;
    Ok(())
}

/// Waits until `observer` sees `name`'s mic on, so a mute sent next finds it on.
async fn mic_seen(observer: &mut SignalingClient, name: &str) -> Result<()> {
    loop {
        let (update, _) = observer.recv_type("participant_updated").await?;
        if update["participant"]["name"] == name && update["participant"]["audio"] == true {
            return Ok(());
        }
    }
}

/// Waits for an `error` with `code` on `socket`, skipping anything else.
async fn refused_with(socket: &mut SignalingClient, who: &str, code: &str) -> Result<Value> {
    let (error, _) = socket
        .recv_type("error")
        .await
        .with_context(|| format!("{who} waiting for {code}"))?;
    ensure!(
        error["code"] == code,
        "{who} is refused with {code}: {error}"
    );
    Ok(error)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_muted_raider_cannot_unmute_by_leaving_and_coming_back_nor_after_mute_all() -> Result<()>
{
    let server = start_server_with(|_| {}).await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let (mut fay, _) = joined(
        addr,
        1,
        &room.id,
        "Fay",
        json!({"key": room.facilitator_key}),
    )
    .await?;
    let (mut rex, rex_joined) = joined(addr, 2, &room.id, "Rex", json!({})).await?;
    let token = rex_joined["token"]
        .as_str()
        .context("joined carries a token")?
        .to_string();
    let rex_id = rex_joined["you"]["id"]
        .as_str()
        .context("joined.you.id")?
        .to_string();

    rex.send(&json!({"type": "media_state", "audio": true}))
        .await?;
    mic_seen(&mut fay, "Rex").await?;
    fay.send(&json!({"type": "mute", "id": rex_id})).await?;
    let (muted, _) = rex.recv_type("muted").await?;
    ensure!(
        muted["message"]
            .as_str()
            .is_some_and(|m| m.contains("lets you speak again")),
        "{muted}"
    );
    rex.send(&json!({"type": "media_state", "audio": true}))
        .await?;
    refused_with(&mut rex, "Rex", "muted_by_facilitator").await?;

    // Out and back in with the same browser: still held, and everyone sees it.
    rex.send(&json!({"type": "leave"})).await?;
    rex.recv_type("closed").await?;
    let (mut rex, back) = joined(addr, 2, &room.id, "Rex", json!({"token": token})).await?;
    ensure!(
        back["you"]["muted_by_facilitator"] == true,
        "held on return: {back}"
    );
    rex.send(&json!({"type": "media_state", "audio": true}))
        .await?;
    refused_with(&mut rex, "Rex", "muted_by_facilitator").await?;

    // Mute-all holds whoever it silenced: Mia was talking, Sol was not.
    let (mut mia, _) = joined(addr, 3, &room.id, "Mia", json!({})).await?;
    let (mut sol, _) = joined(addr, 4, &room.id, "Sol", json!({})).await?;
    mia.send(&json!({"type": "media_state", "audio": true}))
        .await?;
    mic_seen(&mut fay, "Mia").await?;
    fay.send(&json!({"type": "mute_all"})).await?;
    mia.recv_type("muted").await?;
    mia.send(&json!({"type": "media_state", "audio": true}))
        .await?;
    refused_with(&mut mia, "Mia", "muted_by_facilitator").await?;
    sol.send(&json!({"type": "media_state", "audio": true}))
        .await?;
    loop {
        let (update, _) = sol.recv_type_any(&["participant_updated", "error"]).await?;
        ensure!(
            update["type"] != "error",
            "Sol, silent at mute-all, may unmute: {update}"
        );
        if update["participant"]["name"] == "Sol" && update["participant"]["audio"] == true {
            break;
        }
    }
    server.shutdown().await;
    Ok(())
}

/// Reads Fay's waiting lists until one names `name`; returns that entry.
async fn waiter(fay: &mut SignalingClient, name: &str) -> Result<Value> {
    loop {
        let (list, _) = fay.recv_type("waiting_list").await?;
        let found = list["waiting"]
            .as_array()
            .and_then(|w| w.iter().find(|x| x["name"] == name).cloned());
        if let Some(found) = found {
            return Ok(found);
        }
    }
}

/// Item 8: an address ban no longer refuses a household. Rex is banned; his housemate Kim,
/// from the same address with her own browser, is not refused (today's code said `banned`,
/// and told her she had been removed): she waits, flagged for Fay, who lets her in. Rex's own
/// browser is still refused from anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_housemate_of_a_banned_raider_waits_for_the_facilitator_instead_of_being_refused(
) -> Result<()> {
    let server = start_server_with(|_| {}).await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let (mut fay, _) = joined(addr, 1, &room.id, "Fay", json!({"key": room.facilitator_key})).await?;
    let (mut rex, rex_joined) = joined(addr, 2, &room.id, "Rex", json!({})).await?;
    let rex_id = rex_joined["you"]["id"].as_str().context("Rex's id")?.to_string();
    let token = rex_joined["token"].as_str().context("a token")?.to_string();

    fay.send(&json!({"type": "remove", "id": rex_id, "ban": true})).await?;
    closed_with(&mut rex, "Rex", "banned").await?;
    let (bans, _) = fay.recv_type("ban_list").await?;
    ensure!(
        bans["bans"][0]["name"] == "Rex" && bans["bans"][0]["at"].as_u64().is_some(),
        "Fay sees whom she banned and when: {bans}"
    );

    let mut kim = SignalingClient::connect_from(addr, loopback(2)).await?;
    let answer = kim.try_join(&room.id, "Kim", json!({})).await?;
    ensure!(
        answer["type"] == "waiting",
        "Kim, from Rex's address with her own browser, waits: {answer}"
    );
    let flagged = waiter(&mut fay, "Kim").await?;
    ensure!(
        flagged["same_network_as_banned"] == true,
        "Fay is told Kim joins from the network of someone banned: {flagged}"
    );
    fay.send(&json!({"type": "admit", "id": flagged["id"]})).await?;
    kim.recv_type("joined").await.context("Fay lets Kim in")?;

    // Rex's browser is refused from any address.
    let mut again = SignalingClient::connect_from(addr, loopback(3)).await?;
    let answer = again.try_join(&room.id, "Rex", json!({"token": token})).await?;
    ensure!(answer["code"] == "banned", "Rex's token is refused: {answer}");
    server.shutdown().await;
    Ok(())
}

/// Item 8: staff lift a ban, members may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lifted_ban_lets_the_browser_back_and_a_member_cannot_lift_one() -> Result<()> {
    let server = start_server_with(|_| {}).await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let (mut fay, _) = joined(addr, 1, &room.id, "Fay", json!({"key": room.facilitator_key})).await?;
    let (mut mo, _) = joined(addr, 4, &room.id, "Mo", json!({})).await?;
    let (mut sam, sam_joined) = joined(addr, 2, &room.id, "Sam", json!({})).await?;
    let sam_id = sam_joined["you"]["id"].as_str().context("Sam's id")?.to_string();
    let token = sam_joined["token"].as_str().context("a token")?.to_string();
    fay.send(&json!({"type": "remove", "id": sam_id, "ban": true})).await?;
    closed_with(&mut sam, "Sam", "banned").await?;
    let (bans, _) = fay.recv_type("ban_list").await?;
    let ban = bans["bans"][0]["id"].as_u64().context("a ban id")?;

    mo.send(&json!({"type": "lift_ban", "id": ban})).await?;
    refused_with(&mut mo, "Mo", "not_permitted").await?;
    fay.send(&json!({"type": "lift_ban", "id": ban})).await?;
    let (bans, _) = fay.recv_type("ban_list").await?;
    ensure!(bans["bans"] == json!([]), "the list is empty again: {bans}");
    let (_, back) = joined(addr, 2, &room.id, "Sam", json!({"token": token})).await?;
    ensure!(back["type"] == "joined", "Sam, mistakenly banned, is back");
    server.shutdown().await;
    Ok(())
}

/// Item 10: one address takes at most three waiting places; "deny all" empties the room's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_fill_the_waiting_room_and_deny_all_empties_it() -> Result<()> {
    let server = start_server_with(|c| c.room_defaults.waiting_room = true).await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let (mut fay, _) = joined(addr, 1, &room.id, "Fay", json!({"key": room.facilitator_key})).await?;
    let mut raiders = Vec::new();
    for i in 0..3 {
        let mut bot = SignalingClient::connect_from(addr, loopback(5)).await?;
        let answer = bot.try_join(&room.id, &format!("Bot{i}"), json!({})).await?;
        ensure!(answer["type"] == "waiting", "Bot{i} waits: {answer}");
        raiders.push(bot);
    }
    let mut fourth = SignalingClient::connect_from(addr, loopback(5)).await?;
    let answer = fourth.try_join(&room.id, "Bot3", json!({})).await?;
    ensure!(
        answer["type"] == "error" && answer["code"] == "too_many_waiting",
        "a fourth place from one address is refused: {answer}"
    );
    ensure!(answer["message"].as_str().is_some_and(|m| m.ends_with('.')), "with a sentence: {answer}");
    let mut pat = SignalingClient::connect_from(addr, loopback(6)).await?;
    let answer = pat.try_join(&room.id, "Pat", json!({})).await?;
    ensure!(answer["type"] == "waiting", "another address still waits: {answer}");

    fay.send(&json!({"type": "deny_all"})).await?;
    for (i, bot) in raiders.iter_mut().enumerate() {
        closed_with(bot, &format!("Bot{i}"), "denied").await?;
    }
    closed_with(&mut pat, "Pat", "denied").await?;
    server.shutdown().await;
    Ok(())
}

/// Item 10: a raid from many addresses meets the room's arrivals per minute; the key holder
/// still gets in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raid_from_many_addresses_gets_room_busy_and_the_facilitator_still_gets_in() -> Result<()> {
    let server = start_server_with(|c| c.room_defaults.waiting_room = true).await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let mut bots = Vec::new();
    for i in 0..haven::room::WAITING_ARRIVALS_PER_MINUTE {
        let mut bot = SignalingClient::connect_from(addr, loopback(10 + i as u8)).await?;
        let answer = bot.try_join(&room.id, &format!("Bot{i}"), json!({})).await?;
        ensure!(answer["type"] == "waiting", "Bot{i} waits: {answer}");
        bots.push(bot);
    }
    let mut late = SignalingClient::connect_from(addr, loopback(200)).await?;
    let answer = late.try_join(&room.id, "Late", json!({})).await?;
    ensure!(
        answer["type"] == "error" && answer["code"] == "room_busy",
        "arrivals past the minute's share are refused: {answer}"
    );
    let (_, fay) = joined(addr, 1, &room.id, "Fay", json!({"key": room.facilitator_key})).await?;
    ensure!(
        fay["waiting"].as_array().map(Vec::len) == Some(haven::room::WAITING_ARRIVALS_PER_MINUTE),
        "the facilitator gets in and sees who waits"
    );
    server.shutdown().await;
    Ok(())
}

/// Item 11: a member cannot take a look-alike of the facilitator's name; chat says who is
/// staff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_look_alike_of_the_facilitators_name_is_refused_and_chat_carries_roles() -> Result<()> {
    let server = start_server_with(|_| {}).await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let (mut ana, _) = joined(addr, 1, &room.id, "Ana", json!({"key": room.facilitator_key})).await?;
    for fake in ["ANA", "\u{410}na", "Ａｎａ"] {
        let mut raider = SignalingClient::connect_from(addr, loopback(2)).await?;
        let answer = raider.try_join(&room.id, fake, json!({})).await?;
        ensure!(
            answer["type"] == "error" && answer["code"] == "name_taken_by_staff",
            "{fake:?} is refused: {answer}"
        );
        ensure!(
            answer["message"] == "That name is too close to a facilitator's. Please choose another.",
            "with a sentence: {answer}"
        );
    }
    let (mut sam, _) = joined(addr, 3, &room.id, "Sam", json!({})).await?;
    ana.send(&json!({"type": "chat", "text": "welcome"})).await?;
    let (said, _) = sam.recv_type("chat").await?;
    ensure!(said["message"]["role"] == "facilitator", "Sam sees who is staff: {said}");
    sam.send(&json!({"type": "chat", "text": "hi"})).await?;
    let (said, _) = ana.recv_type_any(&["chat"]).await?;
    let said = if said["message"]["text"] == "welcome" { ana.recv_type("chat").await?.0 } else { said };
    ensure!(said["message"]["role"] == "member", "a member's chat says member: {said}");
    server.shutdown().await;
    Ok(())
}

/// Issue #20's last items on the wire: a facilitator's `joined` with no one waiting leaves
/// `waiting` out; staff cannot raise `max_participants` above the server's cap; someone
/// turned away from the waiting room with a ban is told they were not let in (code
/// `banned`), not that they were removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_cap_holds_and_a_ban_from_the_waiting_room_says_what_happened() -> Result<()> {
    let server = start_server_with(|c| c.rooms.max_participants = 8).await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let (mut fay, fay_joined) = joined(addr, 1, &room.id, "Fay", json!({"key": room.facilitator_key})).await?;
    ensure!(
        fay_joined.get("waiting").is_none() && fay_joined.get("bans").is_none(),
        "empty staff lists are left out: {fay_joined}"
    );

    fay.send(&json!({"type": "update_settings", "settings": {"max_participants": 9}})).await?;
    let refused = refused_with(&mut fay, "Fay", "invalid_setting").await?;
    ensure!(
        refused["message"] == "This server allows at most 8 people in a meeting.",
        "the sentence says the most allowed: {refused}"
    );
    fay.send(&json!({"type": "update_settings", "settings": {"max_participants": 8, "waiting_room": true}})).await?;
    let (updated, _) = fay.recv_type("room_updated").await?;
    ensure!(updated["room"]["max_participants"] == 8, "at the cap is fine: {updated}");

    let mut rex = SignalingClient::connect_from(addr, loopback(2)).await?;
    let answer = rex.try_join(&room.id, "Rex", json!({})).await?;
    ensure!(answer["type"] == "waiting", "Rex waits: {answer}");
    let rex_waiting = waiter(&mut fay, "Rex").await?;
    fay.send(&json!({"type": "deny", "id": rex_waiting["id"], "ban": true})).await?;
    let (closed, _) = rex.recv_type("closed").await.context("Rex turned away")?;
    ensure!(
        closed["code"] == "banned"
            && closed["message"] == "A facilitator did not let you in to this meeting. You cannot join it again.",
        "Rex was never in the meeting: {closed}"
    );
    server.shutdown().await;
    Ok(())
}
