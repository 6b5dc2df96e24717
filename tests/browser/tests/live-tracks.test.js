// Only live tracks are negotiated (docs/protocol.md, negotiation rule 2): a camera switched
// off for longer than the server's idle limit leaves everyone's peer connection, and switched
// on again it comes back, decoded, in the same tile. Receivers in Chromium and Firefox, since
// each browser handles a stopped (and reused) m-line its own way.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import {
  assertNoPageErrors,
  CONNECT_TIMEOUT,
  expectMediaFrom,
  joinMeeting,
  waitForTile,
  withBrowsers,
} from '../lib/meeting.js';
import { startServer } from '../lib/server.js';

const IDLE_SECONDS = 2;

let server;
before(async () => {
  server = await startServer('live-tracks', { env: { HAVEN_IDLE_TRACK_SECONDS: String(IDLE_SECONDS) } });
});
after(async () => {
  await server?.stop();
});

/** Video tracks the page's peer connection currently receives. */
const receivingVideo = (page) =>
  page.evaluate(
    () =>
      window.haven.pc
        .getTransceivers()
        .filter((t) => t.currentDirection === 'recvonly' && t.receiver.track.kind === 'video').length,
  );

async function waitReceivingVideo(page, count, label) {
  const deadline = Date.now() + CONNECT_TIMEOUT;
  let now;
  while ((now = await receivingVideo(page)) !== count) {
    if (Date.now() > deadline) throw new Error(`${label}: receives ${now} video tracks, not ${count}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Whether `id`'s tile plays a live video track. */
const tilePlaysVideo = (page, id) =>
  page.$eval(`#grid .tile[data-participant-id="${id}"] video`, (video) =>
    (video.srcObject?.getVideoTracks() ?? []).some((t) => t.readyState === 'live'),
  );

test('a_camera_off_for_a_while_leaves_the_others_connections_and_comes_back_decoded', {
  skip: process.env.HAVEN_SKIP_FIREFOX === '1',
}, async (t) => {
  await withBrowsers(server, [launchChromium, launchFirefox, launchChromium], async ([pageA, pageB, pageC]) => {
    const room = await server.createRoom();
    const alice = await joinMeeting(pageA, room.join_url, 'Alice', { audio: true, video: true });
    const bea = await joinMeeting(pageB, room.join_url, 'Bea', { audio: true, video: true });
    const cy = await joinMeeting(pageC, room.join_url, 'Cy', { audio: true, video: true });
    const viewers = [
      [pageB, 'Bea (Firefox)'],
      [pageC, 'Cy (Chromium)'],
    ];
    for (const [page, label] of viewers) {
      await waitForTile(page, alice.id, 'Alice');
      await expectMediaFrom(page, alice.id, `${label}, Alice's camera on`);
      await waitReceivingVideo(page, 2, label);
    }

    await pageA.bringToFront();
    await pageA.click('#screen-meeting [data-toggle="video"]');
    await pageA.evaluate(() => window.haven.settled());
    for (const [page, label] of viewers) await waitReceivingVideo(page, 1, `${label}, Alice's camera off`);

    await pageA.bringToFront();
    await pageA.click('#screen-meeting [data-toggle="video"]');
    await pageA.evaluate(() => window.haven.settled());
    for (const [page, label] of viewers) {
      await waitReceivingVideo(page, 2, `${label}, Alice's camera on again`);
      const { frames } = await expectMediaFrom(page, alice.id, `${label}, Alice's camera on again`);
      assert.ok(await tilePlaysVideo(page, alice.id), `${label}: Alice's tile plays her video again`);
      t.diagnostic(`${label} decodes Alice's returning camera: frames ${frames.join('→')}`);
    }
    assert.ok(bea.id && cy.id);
    for (const [page, label] of [[pageA, 'Alice'], ...viewers]) assertNoPageErrors(page, label);
  });
});
