// Two people in a real meeting: each decodes the other's video and receives their audio,
// through the real Haven binary, in Debian's Chromium (and Firefox ESR).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium, launchFirefox } from '../lib/browsers.js';
import {
  assertNoPageErrors,
  expectMediaFrom,
  joinMeeting,
  outbound,
  screenshot,
  tileNames,
  waitForTile,
  withBrowsers,
} from '../lib/meeting.js';
import { startServer } from '../lib/server.js';

let server;
before(async () => {
  server = await startServer('media');
});
after(async () => {
  await server?.stop();
});

async function seeAndHearEachOther(t, launchers, label) {
  await withBrowsers(server, launchers, async ([pageA, pageB]) => {
    const room = await server.createRoom();
    assert.match(room.join_url, new RegExp(`/m/${room.id}$`));

    const alice = await joinMeeting(pageA, room.join_url, 'Alice', { audio: true, video: true });
    const bea = await joinMeeting(pageB, room.join_url, 'Bea', { audio: true, video: true });
    assert.equal(alice.name, 'Alice');
    assert.equal(bea.name, 'Bea');

    await Promise.all([waitForTile(pageA, bea.id, 'Bea'), waitForTile(pageB, alice.id, 'Alice')]);
    const [atAlice, atBea] = await Promise.all([
      expectMediaFrom(pageA, bea.id, `${label}: Alice's page`),
      expectMediaFrom(pageB, alice.id, `${label}: Bea's page`),
    ]);

    // Both tiles, each labelled with the other's name, and our own.
    assert.equal((await tileNames(pageA))[bea.id], 'Bea');
    assert.equal((await tileNames(pageB))[alice.id], 'Alice');
    assert.equal((await tileNames(pageA))[alice.id], 'Alice (you)');

    await screenshot(pageA, `${label}-alice`);
    await screenshot(pageB, `${label}-bea`);
    assertNoPageErrors(pageA, 'Alice');
    assertNoPageErrors(pageB, 'Bea');
    t.diagnostic(`Alice got from Bea: frames ${atAlice.frames.join('→')}, audio packets ${atAlice.packets.join('→')}`);
    t.diagnostic(`Bea got from Alice: frames ${atBea.frames.join('→')}, audio packets ${atBea.packets.join('→')}`);
  });
}

test('two_chromium_pages_see_and_hear_each_other', async (t) => {
  await seeAndHearEachOther(t, [launchChromium, launchChromium], 'two-chromium');
});

test('chromium_and_firefox_see_and_hear_each_other', { skip: process.env.HAVEN_SKIP_FIREFOX === '1' }, async (t) => {
  await seeAndHearEachOther(t, [launchChromium, launchFirefox], 'chromium-firefox');
});

// Three pages joining at once: every subscription opens while the others are still being
// negotiated. A new viewer must get a picture even when the publisher ignores a keyframe
// request that lands right after its last keyframe (the server keeps asking until one passes).
test('three_chromium_pages_joining_at_once_all_see_and_hear_each_other', async (t) => {
  await threeJoinAtOnce(t, [launchChromium, launchChromium, launchChromium], 'three-chromium');
});

test('two_chromium_pages_and_one_firefox_joining_at_once_all_see_and_hear_each_other', {
  skip: process.env.HAVEN_SKIP_FIREFOX === '1',
}, async (t) => {
  await threeJoinAtOnce(t, [launchChromium, launchFirefox, launchChromium], 'two-chromium-one-firefox');
});

async function threeJoinAtOnce(t, launchers, label) {
  await withBrowsers(server, launchers, async (pages) => {
    const room = await server.createRoom();
    const names = ['Ana', 'Ben', 'Cy'];
    // Everyone presses Join at the same moment: the server must sort out the offers.
    const people = await Promise.all(
      pages.map((page, i) => joinMeeting(page, room.join_url, names[i], { audio: true, video: true })),
    );
    const checks = [];
    for (const [i, page] of pages.entries()) {
      for (const [j, other] of people.entries()) {
        if (i === j) continue;
        checks.push(waitForTile(page, other.id, other.name));
        checks.push(expectMediaFrom(page, other.id, `${names[i]}'s page, from ${names[j]}`));
      }
    }
    const failed = (await Promise.allSettled(checks)).filter((r) => r.status === 'rejected');
    if (failed.length) {
      // What each publisher sent and how many keyframe requests (PLI) reached it.
      const sent = await Promise.all(
        pages.map(async (page, i) => `${names[i]} (${people[i].id}) sends ${JSON.stringify(await outbound(page))}`),
      );
      throw new Error(
        `${failed.length} of ${checks.length} checks failed:\n${failed.map((r) => r.reason.message.split('\npage:')[0]).join('\n\n')}\n\n${sent.join('\n')}`,
      );
    }
    for (const [i, page] of pages.entries()) {
      assert.equal(Object.keys(await tileNames(page)).length, 3);
      await screenshot(page, `${label}-${names[i].toLowerCase()}`);
      assertNoPageErrors(page, names[i]);
    }
    t.diagnostic(`${label}: each of three pages decodes and hears the other two`);
  });
}
