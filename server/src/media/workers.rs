//! Media workers: one run loop per worker thread, each with its own UDP (and ICE-TCP) port, so
//! a host with several cores forwards several meetings' media at once. A meeting's peers all
//! live on one worker: forwarding never crosses threads, and each loop stays the single owner
//! of its peers. A meeting is given to a worker when its first media command comes — the one
//! with the fewest peers (its own count, published every loop turn), then the fewest
//! meetings — and let go when it empties (its next session may land elsewhere).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::{run_loop, GroupKey, MediaCommand, MediaEvent, MediaHandle};
use crate::config::MediaConfig;
use crate::metrics::{MediaWorkerMetrics, Metrics};

pub struct MediaWorkers {
    workers: Vec<MediaHandle>,
    /// Each worker's own figures; its peer count weighs where a new meeting goes.
    figures: Vec<Arc<MediaWorkerMetrics>>,
    /// The worker of each meeting that has sent media commands since it last emptied.
    meetings: HashMap<GroupKey, usize>,
}

/// A worker that could not start, and the address it wanted.
#[derive(Debug)]
pub struct SpawnError {
    pub addr: SocketAddr,
    pub source: io::Error,
}

impl MediaWorkers {
    /// Starts `config.workers` run loops; worker `i` listens on `udp_addr`'s port plus `i`.
    pub fn spawn(
        config: &MediaConfig,
        events: mpsc::UnboundedSender<MediaEvent>,
        metrics: &Metrics,
    ) -> Result<MediaWorkers, SpawnError> {
        let workers = (0..config.workers)
            .map(|worker| {
                run_loop::spawn(config, worker, events.clone(), metrics.media_workers[worker].clone())
                    .map_err(|source| SpawnError { addr: run_loop::worker_addr(config.udp_addr, worker), source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MediaWorkers::new(workers, metrics.media_workers.to_vec()))
    }

    pub(crate) fn new(workers: Vec<MediaHandle>, figures: Vec<Arc<MediaWorkerMetrics>>) -> MediaWorkers {
        MediaWorkers { workers, figures, meetings: HashMap::new() }
    }

    /// Meetings given to `worker` (counted when a meeting starts: a few hundred at most).
    fn meetings_on(&self, worker: usize) -> usize {
        self.meetings.values().filter(|&&w| w == worker).count()
    }

    /// Sends `command` to the worker carrying `group`, giving the meeting one first.
    pub fn send(&mut self, group: GroupKey, command: MediaCommand) {
        let worker = match self.meetings.get(&group) {
            Some(&worker) => worker,
            None => {
                // Peers stand for the work (a 50-person group outweighs several small ones);
                // meetings part a tie, as when meetings start faster than peers are counted.
                let worker = (0..self.workers.len())
                    .min_by_key(|&i| (self.figures[i].peers.load(Ordering::Relaxed), self.meetings_on(i), i))
                    .expect("at least one worker");
                self.meetings.insert(group, worker);
                worker
            }
        };
        self.workers[worker].send(command);
    }

    /// The meeting has no one left (every peer of it was told to disconnect): its worker is
    /// free to be given another.
    pub fn release(&mut self, group: GroupKey) {
        self.meetings.remove(&group);
    }

    /// Where each worker listens, in worker order.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.workers.iter().map(|w| w.local_addr).collect()
    }

    /// Every worker's announced addresses (its ICE host candidates), in worker order.
    pub fn announced_addrs(&self) -> Vec<Vec<SocketAddr>> {
        self.workers.iter().map(|w| w.announced.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::PeerKey;

    fn workers(n: usize) -> (MediaWorkers, Vec<mpsc::UnboundedReceiver<MediaCommand>>) {
        let (handles, receivers) = (0..n)
            .map(|i| {
                let (commands, rx) = mpsc::unbounded_channel();
                let local_addr = SocketAddr::from(([127, 0, 0, 1], 10000 + i as u16));
                (MediaHandle { commands, local_addr, announced: vec![local_addr] }, rx)
            })
            .unzip();
        (MediaWorkers::new(handles, Metrics::new(n).media_workers.to_vec()), receivers)
    }

    fn disconnect(peer: u64) -> MediaCommand {
        MediaCommand::Disconnect { peer: PeerKey(peer) }
    }

    /// Which worker got each command, in order.
    fn drain(receivers: &mut [mpsc::UnboundedReceiver<MediaCommand>]) -> Vec<(usize, u64)> {
        let mut got = Vec::new();
        for (worker, rx) in receivers.iter_mut().enumerate() {
            while let Ok(MediaCommand::Disconnect { peer }) = rx.try_recv() {
                got.push((worker, peer.0));
            }
        }
        got.sort_by_key(|&(_, peer)| peer);
        got
    }

    #[test]
    fn a_meeting_stays_on_one_worker_and_new_ones_go_to_the_least_loaded() {
        let (mut media, mut rx) = workers(2);
        media.send(GroupKey(1), disconnect(1));
        media.send(GroupKey(2), disconnect(2));
        media.send(GroupKey(1), disconnect(3));
        media.send(GroupKey(3), disconnect(4));
        media.send(GroupKey(2), disconnect(5));
        assert_eq!(drain(&mut rx), [(0, 1), (1, 2), (0, 3), (0, 4), (1, 5)]);
        // Meeting 1 empties: worker 0 now carries one meeting, as worker 1 does; a tie goes to
        // the first.
        media.release(GroupKey(1));
        media.send(GroupKey(4), disconnect(6));
        // Meeting 3 empties too: worker 0 (meeting 4) and worker 1 (meeting 2) tie again,
        // and meeting 1, back, goes to worker 0.
        media.release(GroupKey(3));
        media.send(GroupKey(1), disconnect(7));
        media.send(GroupKey(5), disconnect(8));
        assert_eq!(drain(&mut rx), [(0, 6), (0, 7), (1, 8)]);
        media.release(GroupKey(99));
        assert_eq!([media.meetings_on(0), media.meetings_on(1)], [2, 2], "releasing an unknown meeting changes nothing");
    }

    #[test]
    fn a_new_meeting_goes_where_fewer_people_are() {
        let (mut media, mut rx) = workers(2);
        media.send(GroupKey(1), disconnect(1));
        // Meeting 1 has grown to 50 people (as worker 0's loop counts them): the next two
        // meetings go to worker 1, though it then carries more meetings.
        media.figures[0].peers.store(50, Ordering::Relaxed);
        media.send(GroupKey(2), disconnect(2));
        media.figures[1].peers.store(8, Ordering::Relaxed);
        media.send(GroupKey(3), disconnect(3));
        assert_eq!(drain(&mut rx), [(0, 1), (1, 2), (1, 3)]);
    }

    #[test]
    fn one_worker_takes_everything() {
        let (mut media, mut rx) = workers(1);
        for group in 1..=3 {
            media.send(GroupKey(group), disconnect(group));
        }
        assert_eq!(drain(&mut rx), [(0, 1), (0, 2), (0, 3)]);
    }
}
