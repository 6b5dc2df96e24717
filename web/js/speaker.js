// Active speaker: once a second, the loudest remote audio (from the receivers' own level
// readings, no getStats) gets a highlight on its tile.

const THRESHOLD = 0.05;

/** Browsers disagree on the clock of `timestamp` (epoch or page time): accept either. */
const recent = (ts) => Math.min(Math.abs(Date.now() - ts), Math.abs(performance.now() - ts)) < 1500;

/**
 * @param {() => RTCPeerConnection|null} getPc
 * @param {() => Map<string, MediaStream>} getStreams remote streams by participant id
 * @param {(id: string|null) => void} onSpeaker
 */
export function watchSpeakers(getPc, getStreams, onSpeaker) {
  let current = null;
  return setInterval(() => {
    const pc = getPc();
    let best = null;
    let loudest = THRESHOLD;
    if (pc && pc.connectionState === 'connected') {
      const owner = new Map();
      for (const [id, stream] of getStreams()) for (const t of stream.getAudioTracks()) owner.set(t.id, id);
      for (const receiver of pc.getReceivers()) {
        if (receiver.track?.kind !== 'audio' || !receiver.getSynchronizationSources) continue;
        const id = owner.get(receiver.track.id);
        const [source] = receiver.getSynchronizationSources();
        if (id && source && recent(source.timestamp) && source.audioLevel > loudest) {
          loudest = source.audioLevel;
          best = id;
        }
      }
    }
    if (best !== current) {
      current = best;
      onSpeaker(best);
    }
  }, 1000);
}
