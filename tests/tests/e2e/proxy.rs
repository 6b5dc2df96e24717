//! Behind a reverse proxy every connection comes from the proxy's address. With the proxy in
//! `server.trusted_proxies`, limits and bans hold each browser by the address the proxy names
//! in `X-Forwarded-For` (an address match with a ban holds the arrival in the waiting room for
//! staff); without it the header is ignored, so no one can name themselves someone else. (tests/browser/tests/deploy.test.js does the same through a real nginx.)

use anyhow::{ensure, Context, Result};
use haven_tests::{create_room_with_key, start_server_with, SignalingClient};
use serde_json::{json, Value};

const MO: &str = "198.51.100.7";
const SOL: &str = "198.51.100.8";

/// Fay (facilitator) removes and bans Mo; then Sol, from another address, and Mo again, with
/// a fresh browser (no token), try to join. Returns their answers.
async fn ban_mo_then_join(trusted: bool) -> Result<(Value, Value)> {
    let server = start_server_with(|c| {
        if trusted {
            c.server.trusted_proxies = vec![haven::config::parse_net("127.0.0.1").unwrap()];
        }
    })
    .await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let mut fay = SignalingClient::connect_forwarded_for(addr, "198.51.100.1").await?;
    let joined = fay.try_join(&room.id, "Fay", json!({"key": room.facilitator_key})).await?;
    ensure!(joined["type"] == "joined", "Fay joins: {joined}");
    let mut mo = SignalingClient::connect_forwarded_for(addr, MO).await?;
    let joined = mo.try_join(&room.id, "Mo", json!({})).await?;
    let mo_id = joined["you"]["id"].as_str().or(joined["id"].as_str()).context("Mo's id")?.to_string();
    fay.send(&json!({"type": "remove", "id": mo_id, "ban": true})).await?;
    let (closed, _) = mo.recv_type("closed").await?;
    ensure!(closed["code"] == "banned", "Mo is banned: {closed}");

    let mut sol = SignalingClient::connect_forwarded_for(addr, SOL).await?;
    let sol_answer = sol.try_join(&room.id, "Sol", json!({})).await?;
    let mut mo_again = SignalingClient::connect_forwarded_for(addr, MO).await?;
    let mo_answer = mo_again.try_join(&room.id, "Mo", json!({})).await?;
    server.shutdown().await;
    Ok((sol_answer, mo_answer))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_a_ban_keeps_out_the_banned_member_and_no_one_else() -> Result<()> {
    let (sol, mo) = ban_mo_then_join(true).await?;
    ensure!(sol["type"] == "joined", "Sol, elsewhere, joins: {sol}");
    // A fresh browser from Mo's network is held for staff (flagged), not let in.
    ensure!(mo["type"] == "waiting", "Mo's network waits for staff: {mo}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_peer_cannot_name_another_address_to_escape_a_ban() -> Result<()> {
    // Without trusted_proxies the header is ignored: everyone is the peer address, so Sol's
    // header does not make Sol someone else. (This is also what an operator who forgot to
    // trust their proxy gets, and why start-up tells them.)
    let (sol, mo) = ban_mo_then_join(false).await?;
    ensure!(sol["type"] == "waiting", "the header was not believed: Sol is held as Mo's network: {sol}");
    ensure!(mo["type"] == "waiting", "{mo}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_connection_limits_hold_each_browser_apart() -> Result<()> {
    let server = start_server_with(|c| {
        c.limits.max_connections_per_address = 2;
        c.server.trusted_proxies = vec![haven::config::parse_net("127.0.0.0/8").unwrap()];
    })
    .await;
    let addr = server.http_addr();
    let _first = SignalingClient::connect_forwarded_for(addr, MO).await?;
    let _second = SignalingClient::connect_forwarded_for(addr, MO).await?;
    let mut third = SignalingClient::connect_forwarded_for(addr, MO).await?;
    let (error, _) = third.recv_type("error").await?;
    ensure!(error["code"] == "too_many_connections", "{error}");
    // A forged hop left of the proxy's own changes nothing: the proxy appended Mo's address.
    let mut forged = SignalingClient::connect_forwarded_for(addr, &format!("203.0.113.99, {MO}")).await?;
    let (error, _) = forged.recv_type("error").await?;
    ensure!(error["code"] == "too_many_connections", "{error}");
    let mut sol = SignalingClient::connect_forwarded_for(addr, SOL).await?;
    sol.send(&json!({"type": "raise_hand"})).await?;
    let (reply, _) = sol.recv_type("error").await?;
    ensure!(reply["code"] == "not_joined", "Sol's connection is served: {reply}");
    server.shutdown().await;
    Ok(())
}
