//! With several media workers, a host's cores share the meetings: each meeting's media goes
//! through one worker and its port, new meetings go to the worker carrying the fewest, and
//! every meeting's media flows whichever worker it is on.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{ensure, Result};
use haven_tests::{http_request, start_server_with, two_in_a_room, TwoInARoom};

async fn ports(meeting: &TwoInARoom) -> [BTreeSet<u16>; 2] {
    [meeting.ana.server_media_ports().await, meeting.ben.server_media_ports().await]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn meetings_are_spread_over_media_workers_each_on_its_own_port() -> Result<()> {
    let server = start_server_with(|c| {
        c.media.workers = 2;
        c.server.metrics = true;
    })
    .await;
    let addrs = server.media_addrs().to_vec();
    ensure!(addrs.len() == 2 && addrs[0].port() != addrs[1].port(), "two workers, two ports: {addrs:?}");
    let [first_port, second_port] = [addrs[0].port(), addrs[1].port()].map(|p| BTreeSet::from([p]));

    // Each meeting's media flows both ways (two_in_a_room waits for it), each on its worker.
    let first = two_in_a_room(&server).await?;
    let second = two_in_a_room(&server).await?;
    ensure!(ports(&first).await == [first_port.clone(), first_port.clone()], "first meeting on worker 0");
    ensure!(ports(&second).await == [second_port.clone(), second_port.clone()], "second meeting on worker 1");

    // Both workers forward: each one's thread has spent CPU (published once a second).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, metrics) = http_request(server.http_addr(), "GET", "/metrics").await?;
    for worker in 0..2 {
        let name = format!("haven_media_loop_cpu_seconds_total{{worker=\"{worker}\"}} ");
        let cpu: f64 = metrics.lines().find_map(|l| l.strip_prefix(&name)?.parse().ok()).unwrap_or(0.0);
        ensure!(cpu > 0.0, "worker {worker} spent no CPU:\n{metrics}");
    }
    ensure!(metrics.contains("\nhaven_media_peers 4\n"), "peers of both workers counted:\n{metrics}");

    // The first meeting empties; the next meeting goes to the worker it freed, and the second
    // meeting's media keeps flowing throughout.
    let TwoInARoom { ana, ben, .. } = first;
    ana.leave().await?;
    ben.leave().await?;
    let third = two_in_a_room(&server).await?;
    ensure!(ports(&third).await == [first_port.clone(), first_port], "third meeting on the freed worker 0");
    second.ana.wait_still_receiving_from(&second.ben.id).await?;
    second.ben.wait_still_receiving_from(&second.ana.id).await?;
    server.shutdown().await;
    Ok(())
}
