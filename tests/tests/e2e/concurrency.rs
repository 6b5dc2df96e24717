//! Many people at once: the negotiation rule must hold when joins race.

use std::sync::Arc;

use anyhow::{Context, Result};
use haven_tests::{create_room, start_server, Participant};
use tokio::sync::Barrier;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_clients_joining_at_the_same_instant_all_receive_each_other() -> Result<()> {
    let server = start_server().await;
    let room = create_room(&server).await?;
    let addr = server.http_addr();
    let barrier = Arc::new(Barrier::new(5));
    let joins: Vec<_> = (0..5)
        .map(|i| {
            let (barrier, room) = (barrier.clone(), room.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                Participant::join(addr, &room, &format!("Person {i}")).await
            })
        })
        .collect();
    let mut people = Vec::new();
    for join in joins {
        people.push(join.await.context("join task panicked")??);
    }

    for p in &people {
        let others: Vec<&str> = people
            .iter()
            .filter(|o| o.id != p.id)
            .map(|o| o.id.as_str())
            .collect();
        p.wait_receiving_from(&others).await?;
    }
    for p in &people {
        p.check_invariants()?;
        p.check_no_errors()?;
    }
    server.shutdown().await;
    Ok(())
}
