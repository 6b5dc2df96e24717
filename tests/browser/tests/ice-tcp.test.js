// A guest on a network that blocks UDP still joins: the server also offers a passive ICE-TCP
// candidate on the same port, and Chromium reaches it over TCP. The page below is made to see
// only TCP candidates, which is what a UDP-blocking firewall leaves a browser to use.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium } from '../lib/browsers.js';
import { assertNoPageErrors, expectMediaFrom, joinMeeting, selectedServerCandidate, waitForTile } from '../lib/meeting.js';
import { startServer } from '../lib/server.js';

let server;
before(async () => {
  server = await startServer('ice-tcp');
});
after(async () => {
  await server?.stop();
});

/** Removes every UDP candidate from the server's SDP before the page applies it. */
function onlyTcpCandidates() {
  const original = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (description) {
    if (description?.sdp) {
      const sdp = description.sdp
        .split('\r\n')
        .filter((line) => !(line.startsWith('a=candidate:') && / udp /i.test(line)))
        .join('\r\n');
      description = { type: description.type, sdp };
    }
    return original.call(this, description);
  };
}

test('a_browser_that_cannot_use_udp_connects_over_ice_tcp', async () => {
  const [chromeA, chromeB] = [await launchChromium(), await launchChromium()];
  try {
    const [pageA, pageB] = [await chromeA.newPage(), await chromeB.newPage()];
    await pageA.evaluateOnNewDocument(onlyTcpCandidates);
    const room = await server.createRoom();
    const tess = await joinMeeting(pageA, room.join_url, 'Tess', { audio: true, video: true });
    const uma = await joinMeeting(pageB, room.join_url, 'Uma', { audio: true, video: true });
    await Promise.all([waitForTile(pageA, uma.id, 'Uma'), waitForTile(pageB, tess.id, 'Tess')]);
    await Promise.all([
      expectMediaFrom(pageA, uma.id, "Tess's page (TCP)"),
      expectMediaFrom(pageB, tess.id, "Uma's page (UDP)"),
    ]);
    assert.equal((await selectedServerCandidate(pageA))?.protocol, 'tcp', 'Tess reached the server over TCP');
    assert.equal((await selectedServerCandidate(pageB))?.protocol, 'udp', 'Uma, who can use UDP, does');
    assertNoPageErrors(pageA, 'Tess');
    assertNoPageErrors(pageB, 'Uma');
  } finally {
    await chromeA.close().catch(() => {});
    await chromeB.close().catch(() => {});
  }
});
