// A server with two media workers, as on a multi-core host: a second meeting, held while the
// first is on, goes to the second worker and its own port, and real browsers in it see and
// hear each other (Chromium with Firefox ESR).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import {
  assertNoPageErrors,
  expectMediaFrom,
  joinMeeting,
  selectedServerCandidate,
  waitForTile,
  withBrowsers,
} from '../lib/meeting.js';
import { startServer } from '../lib/server.js';

let server;
before(async () => {
  server = await startServer('workers', { mediaWorkers: 2 });
});
after(async () => {
  await server?.stop();
});

/** The server port the page's media goes to. */
async function mediaPort(page) {
  return (await selectedServerCandidate(page))?.port;
}

test('a_second_meeting_runs_on_the_second_media_worker', async (t) => {
  await withBrowsers(server, [launchChromium, launchChromium, launchFirefox], async ([first, pageA, pageB]) => {
    const one = await server.createRoom();
    const two = await server.createRoom();

    // Someone in the first meeting with a camera on: it holds worker 0.
    await joinMeeting(first, one.join_url, 'Cleo', { audio: true, video: true });
    await first.waitForFunction(() => window.haven.pc?.connectionState === 'connected', { timeout: 20_000 });
    assert.equal(await mediaPort(first), server.udpPort, 'the first meeting is on the first port');

    const ada = await joinMeeting(pageA, two.join_url, 'Ada', { audio: true, video: true });
    const bo = await joinMeeting(pageB, two.join_url, 'Bo', { audio: true, video: true });
    await Promise.all([waitForTile(pageA, bo.id, 'Bo'), waitForTile(pageB, ada.id, 'Ada')]);
    const [atAda, atBo] = await Promise.all([
      expectMediaFrom(pageA, bo.id, 'second meeting: Ada (Chromium)'),
      expectMediaFrom(pageB, ada.id, 'second meeting: Bo (Firefox)'),
    ]);
    for (const [page, who] of [[pageA, 'Ada'], [pageB, 'Bo']]) {
      assert.equal(await mediaPort(page), server.udpPort + 1, `${who}'s media goes to the second worker's port`);
    }
    assertNoPageErrors(pageA, 'Ada');
    assertNoPageErrors(pageB, 'Bo');
    t.diagnostic(`Ada got from Bo: frames ${atAda.frames.join('→')}; Bo got from Ada: frames ${atBo.frames.join('→')}`);
  });
});
