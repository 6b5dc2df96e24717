// A small, read-only window into the page for the browser tests, only where they ask for it
// before the page loads (tests/browser/lib/browsers.js): a production page exposes nothing.

import { MeetingKey } from '../e2ee/meeting-key.js';
import { e2ee } from './e2ee.js';
import { handleMessage } from './handlers.js';
import { local } from './media.js';
import { app, mainTile, micStatus } from './state.js';
import { queue, reception } from './views.js';

export function installTestHooks() {
  if (window.__havenTestHooks !== true) return;
  window.haven = {
    get state() {
      return app.state;
    },
    get pc() {
      return app.peer?.pc ?? null;
    },
    get you() {
      return app.you ? { ...app.you } : null;
    },
    get room() {
      return app.room;
    },
    get participants() {
      return [...app.participants.values()].map((p) => ({ ...p }));
    },
    get media() {
      return { ...app.want };
    },
    /** The open local tracks: which track and which device, to see a device being reopened. */
    get localTracks() {
      const about = (t) => (t ? { id: t.id, deviceId: t.getSettings?.().deviceId ?? '' } : null);
      return { audio: about(local.tracks.audio), video: about(local.tracks.video) };
    },
    get roomInfo() {
      return app.roomInfo ? { ...app.roomInfo } : null;
    },
    get queue() {
      return queue.queue.map((e) => ({ ...e }));
    },
    /** Staff: who waits, and this meeting's bans, as the server last said. */
    get waiting() {
      return app.waiting.map((w) => ({ ...w }));
    },
    get bans() {
      return app.bans.map((b) => ({ ...b }));
    },
    get floor() {
      return queue.floor ? { ...queue.floor } : null;
    },
    /** Remote streams: whose (participant id) and which track ids, to read getStats by person. */
    get streams() {
      return [...app.streams].map(([id, stream]) => ({
        id,
        tracks: stream.getTracks().map((t) => ({ id: t.id, kind: t.kind })),
      }));
    },
    /** The readings (`{id, title, text}`) and the one on show, as the server last said. */
    get readings() {
      return { list: app.readings.list.map((r) => ({ ...r })), shown: app.readings.shown ? { ...app.readings.shown } : null };
    },
    /**
     * End-to-end encryption: whether the link asks for it, why the page refused to join, the
     * safety code's indices, and the media worker's frame counts (never the key).
     */
    get e2ee() {
      return {
        on: e2ee.on,
        refused: e2ee.refused,
        code: e2ee.code ? [...e2ee.code.indices] : null,
        counts: e2ee.media ? structuredClone(e2ee.media.counts) : [],
      };
    },
    /**
     * Test only: the keys this page's receivers accept (links' `e2ee=` texts), to make frames
     * fail and then decrypt again; and whether recovery asks for a keyframe.
     */
    async e2eeReceiveKeys(texts) {
      const keys = await Promise.all(texts.map((text) => MeetingKey.fromText(text)));
      e2ee.media.setReceiveKeys(keys);
    },
    e2eeKeyframeRequests(on) {
      e2ee.media.setKeyframeRequests(on);
    },
    get trace() {
      return app.trace.slice();
    },
    /** Resolves when every queued mic/camera change is done. */
    settled() {
      return app.mediaChain;
    },
    /** "Sound only", the link as shown, the tiles shown paused, and the tile report now. */
    get reception() {
      return { soundOnly: reception.soundOnly, link: reception.link, paused: reception.paused, tiles: reception.tiles() };
    },
    /** The microphone check: the meter's level (0–1), whether a voice was heard, what the join screen says. */
    get mic() {
      return { level: app.mic.level, heard: app.mic.heard, measuring: app.mic.measuring, unavailable: app.mic.unavailable, status: micStatus() };
    },
    /**
     * Sets `enabled` on the open local track of `kind`: a disabled track gives silence, the
     * tests' stand-in for a microphone muted on the device. True when there was a track.
     */
    setLocalTrackEnabled(kind, enabled) {
      const track = local.tracks[kind];
      if (track) track.enabled = enabled;
      return !!track;
    },
    /** The tiles' layout: grid or speaker, who is pinned, who is large, whether my tile is hidden. */
    get layout() {
      return { ...app.view, main: mainTile() };
    },
    /** Screen share: whose screen is on, whether I capture one (and await the start), whether one is shown large. */
    get screen() {
      return {
        sharer: app.screen.sharer,
        capturing: !!app.screen.track,
        // My screen's sound while I share it (its label), or null.
        sound: app.screen.sound?.label ?? null,
        // "Include sound": the next share asks for its sound.
        withSound: app.screen.withSound,
        starting: app.screen.starting,
        presenting: document.getElementById('grid').classList.contains('is-presenting'),
      };
    },
    /** Sends `msg` on the page's own socket as it is, as a modified client would. */
    sendAsIs(msg) {
      return app.sig?.send(msg) ?? false;
    },
    /** Hands the page a message as if the server had sent it (a `reception`, say). */
    deliver(msg) {
      return handleMessage(msg);
    },
  };
}
