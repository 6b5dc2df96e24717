//! Starting meetings cannot be used to fill the server: one address starts only so many an
//! hour, and an organisation can require a code to start one at all.

use anyhow::{ensure, Result};
use haven_tests::{http_request_with, start_server_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_starts_only_a_few_meetings_an_hour_and_others_still_can() -> Result<()> {
    let server = start_server_with(|c| {
        c.limits.rooms_per_address_per_hour = 3;
        c.server.trusted_proxies = vec![haven::config::parse_net("127.0.0.1").unwrap()];
    })
    .await;
    let from = |who: &'static str| [("X-Forwarded-For", who)];
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(http_request_with(server.http_addr(), "POST", "/api/rooms", &from("198.51.100.7")).await?);
    }
    let codes: Vec<u16> = statuses.iter().map(|(status, _)| *status).collect();
    ensure!(codes == [201, 201, 201, 429, 429], "{codes:?}");
    ensure!(statuses[3].1.contains("\"too_many_rooms\""), "{}", statuses[3].1);
    let (status, _) = http_request_with(server.http_addr(), "POST", "/api/rooms", &from("198.51.100.8")).await?;
    ensure!(status == 201, "another address starts a meeting: {status}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_create_secret_only_people_given_the_code_start_meetings() -> Result<()> {
    let server = start_server_with(|c| c.rooms.create_secret = "tuesday-intergroup".into()).await;
    let addr = server.http_addr();
    let (status, body) = http_request_with(addr, "POST", "/api/rooms", &[]).await?;
    ensure!(status == 401 && body.contains("\"create_secret_required\""), "{status} {body}");
    let (status, body) = http_request_with(addr, "POST", "/api/rooms", &[("Authorization", "Bearer guess")]).await?;
    ensure!(status == 403 && body.contains("\"wrong_create_secret\""), "{status} {body}");
    let (status, body) = http_request_with(addr, "POST", "/api/rooms", &[("Authorization", "Bearer tuesday-intergroup")]).await?;
    ensure!(status == 201 && body.contains("join_url"), "{status} {body}");
    server.shutdown().await;
    Ok(())
}
