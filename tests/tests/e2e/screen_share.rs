//! Screen share's rules as people in a meeting observe them on the wire: a member not let
//! share is refused, staff let them and everyone is told when their share starts, a late
//! joiner finds it, one screen at a time, and removal, suspend and a dropped connection end
//! it. (The screen track itself comes with the web client's share; the SFU's flag is checked
//! by the room's property test.)

use anyhow::{ensure, Context, Result};
use haven_tests::{create_room_with_key, start_server, SignalingClient};
use serde_json::{json, Value};

async fn join(addr: std::net::SocketAddr, room: &str, name: &str, fields: Value) -> Result<(SignalingClient, String, Value)> {
    let mut socket = SignalingClient::connect(addr).await?;
    let joined = socket.try_join(room, name, fields).await?;
    ensure!(joined["type"] == "joined", "{name} joins, got {joined}");
    let id = joined["you"]["id"].as_str().context("joined.you.id")?.to_string();
    Ok((socket, id, joined))
}

/// Sends `message` and expects an `error` with `code` (and a sentence) back.
async fn refused(who: &mut SignalingClient, message: Value, code: &str) -> Result<()> {
    who.send(&message).await?;
    let (error, _) = who.recv_type("error").await?;
    ensure!(error["code"] == code, "{message}: expected {code}, got {error}");
    ensure!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
    Ok(())
}

async fn started(who: &mut SignalingClient, sharer: &str) -> Result<()> {
    let (event, _) = who.recv_type("screen_share_started").await?;
    ensure!(event == json!({"type": "screen_share_started", "id": sharer}), "{event}");
    Ok(())
}

async fn ended(who: &mut SignalingClient, sharer: &str, reason: &str) -> Result<()> {
    let (event, _) = who.recv_type("screen_share_ended").await?;
    ensure!(event == json!({"type": "screen_share_ended", "id": sharer, "reason": reason}), "{event}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_shares_only_once_staff_let_them_and_removal_and_suspend_end_a_share() -> Result<()> {
    let server = start_server().await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let (mut fay, fay_id, _) = join(addr, &room.id, "Fay", json!({"key": room.facilitator_key})).await?;
    let (mut mo, mo_id, mo_joined) = join(addr, &room.id, "Mo", json!({})).await?;
    let (mut oli, _, _) = join(addr, &room.id, "Oli", json!({})).await?;
    ensure!(mo_joined["you"]["may_share_screen"] == false, "members may not share by default: {mo_joined}");
    ensure!(mo_joined.get("screen_share").is_none(), "no screen on yet: {mo_joined}");

    refused(&mut mo, json!({"type": "start_screen_share"}), "screen_share_not_allowed").await?;
    refused(&mut mo, json!({"type": "allow_screen_share", "id": mo_id}), "not_permitted").await?;

    fay.send(&json!({"type": "allow_screen_share", "id": mo_id})).await?;
    let (told, _) = mo.recv_type("screen_share_permission").await?;
    ensure!(told["allowed"] == true && told["by"] == "Fay", "Mo is told in words: {told}");
    mo.send(&json!({"type": "start_screen_share"})).await?;
    for who in [&mut fay, &mut mo, &mut oli] {
        started(who, &mo_id).await?;
    }

    // One screen at a time, a facilitator's too; Oli was never let share.
    refused(&mut fay, json!({"type": "start_screen_share"}), "screen_share_busy").await?;
    refused(&mut oli, json!({"type": "start_screen_share"}), "screen_share_not_allowed").await?;

    let (_lee, _, lee_joined) = join(addr, &room.id, "Lee", json!({})).await?;
    ensure!(lee_joined["screen_share"] == mo_id.as_str(), "a late joiner finds whose screen is on: {lee_joined}");

    fay.send(&json!({"type": "remove", "id": mo_id})).await?;
    let (closed, _) = mo.recv_type("closed").await?;
    ensure!(closed["code"] == "removed", "{closed}");
    ended(&mut oli, &mo_id, "removed").await?;
    ended(&mut fay, &mo_id, "removed").await?;

    // The facilitator shares by default; suspend ends it, restore brings none back.
    fay.send(&json!({"type": "start_screen_share"})).await?;
    started(&mut oli, &fay_id).await?;
    fay.send(&json!({"type": "suspend"})).await?;
    ended(&mut oli, &fay_id, "suspended").await?;
    fay.send(&json!({"type": "restore"})).await?;
    let (updated, _) = oli.recv_type("room_updated").await?;
    ensure!(updated["room"]["suspended"] == true, "suspended first: {updated}");
    let (updated, _) = oli.recv_type("room_updated").await?;
    ensure!(updated["room"]["suspended"] == false, "then restored: {updated}");
    let (_kim, _, kim_joined) = join(addr, &room.id, "Kim", json!({})).await?;
    ensure!(kim_joined.get("screen_share").is_none(), "restore brings no share back: {kim_joined}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_ends_when_the_sharers_connection_drops_and_staff_can_take_the_permission_back() -> Result<()> {
    let server = start_server().await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let (mut fay, _, _) = join(addr, &room.id, "Fay", json!({"key": room.facilitator_key})).await?;
    let (mut mo, mo_id, _) = join(addr, &room.id, "Mo", json!({})).await?;
    let (mut oli, oli_id, _) = join(addr, &room.id, "Oli", json!({})).await?;

    fay.send(&json!({"type": "allow_screen_share", "id": oli_id})).await?;
    oli.recv_type("screen_share_permission").await?;
    oli.send(&json!({"type": "start_screen_share"})).await?;
    started(&mut mo, &oli_id).await?;
    // The socket drops without `leave`: the place is kept, the share is not.
    drop(oli);
    ended(&mut mo, &oli_id, "dropped").await?;
    ended(&mut fay, &oli_id, "dropped").await?;

    fay.send(&json!({"type": "allow_screen_share", "id": mo_id})).await?;
    mo.recv_type("screen_share_permission").await?;
    mo.send(&json!({"type": "start_screen_share"})).await?;
    started(&mut fay, &mo_id).await?;
    fay.send(&json!({"type": "revoke_screen_share", "id": mo_id})).await?;
    let (told, skipped) = mo.recv_type("screen_share_permission").await?;
    ensure!(told["allowed"] == false, "{told}");
    let end = json!({"type": "screen_share_ended", "id": mo_id, "reason": "revoked"});
    ensure!(skipped.contains(&end), "the share ended before Mo was told, in one batch: {skipped:?}");
    refused(&mut mo, json!({"type": "start_screen_share"}), "screen_share_not_allowed").await?;
    server.shutdown().await;
    Ok(())
}
