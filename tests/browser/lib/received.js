// What a member's page receives, per sender, read from its own getStats() once a second
// (tests/weak-link.test.js): how much of each voice the browser had to conceal, and how each
// video moves. Inbound reports are attributed to the publisher by the track's MediaStream id
// (docs/protocol.md: msid = participant id).
//
// Reports come and go (a new SSRC, a renegotiation, Firefox dropping a stream it no longer
// receives), so nothing sums reports at one instant and subtracts another: each report is
// followed by its id from one sample to the next, a new one counting from zero and one that
// vanished adding nothing more.

const COUNTERS = [
  'bytesReceived',
  'headerBytesReceived',
  'packetsReceived',
  'concealedSamples',
  'totalSamplesReceived',
  'framesDecoded',
  'freezeCount',
  'totalFreezesDuration',
  'jitterBufferDelay',
  'jitterBufferEmittedCount',
];

/** Starts sampling the page's inbound-rtp reports once a second (idempotent). */
export async function startSampler(page) {
  await page.evaluate((counters) => {
    if (window.__received) return;
    const state = (window.__received = { samples: [], error: null });
    const once = async () => {
      const pc = window.haven?.pc;
      if (!pc) return;
      const owner = new Map();
      for (const stream of window.haven.streams) for (const t of stream.tracks) owner.set(t.id, stream.id);
      // Firefox may omit trackIdentifier; the transceiver with the report's mid tells.
      const byMid = new Map();
      for (const t of pc.getTransceivers()) if (t.mid != null) byMid.set(t.mid, t.receiver.track?.id);
      const stats = await pc.getStats();
      const reports = {};
      stats.forEach((s) => {
        if (s.type !== 'inbound-rtp') return;
        const c = {};
        for (const name of counters) if (typeof s[name] === 'number') c[name] = s[name];
        reports[s.id] = { kind: s.kind ?? s.mediaType, from: owner.get(s.trackIdentifier ?? byMid.get(s.mid)) ?? null, c };
      });
      state.samples.push({ t: Date.now(), reports });
    };
    const loop = async () => {
      const started = Date.now();
      try {
        await once();
      } catch (err) {
        state.error = String(err);
      }
      setTimeout(loop, Math.max(0, 1000 - (Date.now() - started)));
    };
    loop();
  }, COUNTERS);
}

/** The samples taken at or after `t0` (this machine's clock: the page's Date.now()). */
export const samplesSince = (page, t0) =>
  page.evaluate((t0) => window.__received.samples.filter((s) => s.t >= t0), t0);

/** Each report's kind and publisher, as last known in `samples` (the mapping may lag). */
function owners(samples) {
  const known = new Map();
  for (const s of samples) {
    for (const [id, r] of Object.entries(s.reports)) {
      if (r.from !== null || !known.has(id)) known.set(id, `${r.kind}:${r.from}`);
    }
  }
  return known;
}

/** How much `field` grew from sample `a` to sample `b` in the reports of `key` ("video:<id>"). */
function grew(a, b, key, field, owner) {
  let sum = 0;
  for (const [id, r] of Object.entries(b.reports)) {
    if (owner.get(id) !== key || r.c[field] === undefined) continue;
    sum += Math.max(0, r.c[field] - (a.reports[id]?.c[field] ?? 0));
  }
  return sum;
}

/** Growth of `field` over consecutive samples. */
function growth(samples, key, field, owner) {
  let sum = 0;
  for (let i = 1; i < samples.length; i++) sum += grew(samples[i - 1], samples[i], key, field, owner);
  return sum;
}

const reports = (sample, key, field, owner) =>
  Object.entries(sample.reports).some(([id, r]) => owner.get(id) === key && r.c[field] !== undefined);

/**
 * Per sender, over the samples between t0 and t1 (`samples` may start earlier): audio
 * concealment (growth of concealedSamples / growth of totalSamplesReceived; NaN when nothing
 * was heard), video fps (decoded frames / seconds), frozen seconds (the larger of the seconds
 * in which no frame was decoded and Chromium's totalFreezesDuration growth, less the part of a
 * freeze that began before t0), and kbit/s.
 */
export function measure(samples, t0, t1, senders) {
  const win = samples.filter((s) => s.t >= t0 && s.t <= t1);
  if (win.length < 2) throw new Error(`only ${win.length} getStats samples between the window's ends`);
  const owner = owners(samples);
  const secs = (win.at(-1).t - win[0].t) / 1000;
  return senders.map(({ id, name }) => {
    const [a, v] = [`audio:${id}`, `video:${id}`];
    const delta = (key, field) => growth(win, key, field, owner);
    const heard = delta(a, 'totalSamplesReceived');
    let sampledFrozen = 0;
    for (let i = 1; i < win.length; i++) {
      if (grew(win[i - 1], win[i], v, 'framesDecoded', owner) === 0) sampledFrozen += (win[i].t - win[i - 1].t) / 1000;
    }
    // A freeze is reported whole when it ends: take off what of it came before t0.
    const before = samples.filter((s) => s.t <= win[0].t);
    let frozenBefore = 0;
    for (let i = before.length - 1; i > 0 && grew(before[i - 1], before[i], v, 'framesDecoded', owner) === 0; i--) {
      frozenBefore += (before[i].t - before[i - 1].t) / 1000;
    }
    const reportedFrozen = Math.min(secs, Math.max(0, delta(v, 'totalFreezesDuration') - frozenBefore));
    // On the wire: RTP payload and header, SRTP's 10-byte tag, UDP, IPv4 and Ethernet.
    const wire = (key) => ((delta(key, 'bytesReceived') + delta(key, 'headerBytesReceived') + 52 * delta(key, 'packetsReceived')) * 8) / secs / 1000;
    return {
      id,
      name,
      secs,
      concealed: reports(win.at(-1), a, 'concealedSamples', owner) && heard > 0 ? delta(a, 'concealedSamples') / heard : NaN,
      audioSamples: heard,
      audioKbps: (delta(a, 'bytesReceived') * 8) / secs / 1000,
      fps: delta(v, 'framesDecoded') / secs,
      frozen: Math.max(sampledFrozen, reportedFrozen),
      sampledFrozen,
      reportedFrozen,
      videoBytes: delta(v, 'bytesReceived'),
      videoKbps: (delta(v, 'bytesReceived') * 8) / secs / 1000,
      audioWireKbps: wire(a),
      videoWireKbps: wire(v),
    };
  });
}

/**
 * Per sender's video, how long after `t0` it first ran at `fps` or more over two sampling
 * intervals (Infinity if it never did in `samples`).
 */
export function recoveryTimes(samples, t0, senders, fps) {
  const after = samples.filter((s) => s.t >= t0);
  const owner = owners(samples);
  return senders.map(({ id }) => {
    for (let i = 2; i < after.length; i++) {
      const frames = growth(after.slice(i - 2, i + 1), `video:${id}`, 'framesDecoded', owner);
      if (frames / ((after[i].t - after[i - 2].t) / 1000) >= fps) return after[i].t - t0;
    }
    return Infinity;
  });
}

/**
 * Per sender, second by second after `t0`: milliseconds of sound concealed (at 48 kHz) and
 * the jitter buffer's mean delay in ms over that second: where a window's concealment came
 * from (a queue filling at a drop, a probe, a resumed video).
 */
export function soundSeries(samples, t0, t1, senders) {
  const win = samples.filter((s) => s.t >= t0 && s.t <= t1);
  const owner = owners(samples);
  return senders.map(({ id, name }) => {
    const key = `audio:${id}`;
    const concealedMs = [];
    const bufferMs = [];
    for (let i = 1; i < win.length; i++) {
      const d = (field) => grew(win[i - 1], win[i], key, field, owner);
      concealedMs.push(Math.round(d('concealedSamples') / 48));
      const emitted = d('jitterBufferEmittedCount');
      bufferMs.push(emitted > 0 ? Math.round((d('jitterBufferDelay') / emitted) * 1000) : null);
    }
    return { id, name, concealedMs, bufferMs };
  });
}

/** Frames decoded per sender over `samples`. */
export function framesDecoded(samples, senders) {
  const owner = owners(samples);
  return senders.map(({ id }) => growth(samples, `video:${id}`, 'framesDecoded', owner));
}

/** The last sample, to show in a failure. */
export const lastSample = (page) => page.evaluate(() => ({ ...window.__received.samples.at(-1), error: window.__received.error }));
