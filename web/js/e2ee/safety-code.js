// The safety code: seven emoji derived from the meeting key, the same on every page holding
// that key and (but for a 1 in 2^42 chance) different for any other key, so a chair can ask
// "does everyone see dog, rocket, …?". Emoji, as Matrix's SAS verification (which Jitsi's
// E2EE verification reuses) shows them: they read the same whatever language a page is in;
// each has a name a page can say in its own language (the catalogue keys part 2 adds).
// Imports meeting-key.js only.

import { LABELS, info } from './meeting-key.js';

/** 64 emoji, 6 bits each: easy to tell apart at a glance, common on every platform. */
export const EMOJI = Object.freeze([
  ['🐶', 'dog'], ['🐱', 'cat'], ['🦁', 'lion'], ['🐎', 'horse'],
  ['🦄', 'unicorn'], ['🐷', 'pig'], ['🐘', 'elephant'], ['🐰', 'rabbit'],
  ['🐼', 'panda'], ['🐓', 'rooster'], ['🐧', 'penguin'], ['🐢', 'turtle'],
  ['🐟', 'fish'], ['🐙', 'octopus'], ['🦋', 'butterfly'], ['🌷', 'flower'],
  ['🌳', 'tree'], ['🌵', 'cactus'], ['🍄', 'mushroom'], ['🌏', 'globe'],
  ['🌙', 'moon'], ['☁️', 'cloud'], ['🔥', 'fire'], ['🍌', 'banana'],
  ['🍎', 'apple'], ['🍓', 'strawberry'], ['🌽', 'corn'], ['🍕', 'pizza'],
  ['🎂', 'cake'], ['❤️', 'heart'], ['😀', 'smiley'], ['🤖', 'robot'],
  ['🎩', 'hat'], ['👓', 'glasses'], ['🔧', 'spanner'], ['🎅', 'santa'],
  ['👍', 'thumbs up'], ['☂️', 'umbrella'], ['⌛', 'hourglass'], ['⏰', 'clock'],
  ['🎁', 'gift'], ['💡', 'light bulb'], ['📕', 'book'], ['✏️', 'pencil'],
  ['📎', 'paperclip'], ['✂️', 'scissors'], ['🔒', 'lock'], ['🔑', 'key'],
  ['🔨', 'hammer'], ['☎️', 'telephone'], ['🏁', 'flag'], ['🚂', 'train'],
  ['🚲', 'bicycle'], ['✈️', 'aeroplane'], ['🚀', 'rocket'], ['🏆', 'trophy'],
  ['⚽', 'ball'], ['🎸', 'guitar'], ['🎺', 'trumpet'], ['🔔', 'bell'],
  ['⚓', 'anchor'], ['🎧', 'headphones'], ['📁', 'folder'], ['📌', 'pin'],
].map(([emoji, name]) => Object.freeze({ emoji, name })));

export const CODE_LENGTH = 7;

/** The 7 indices into EMOJI: the first 42 bits of HKDF(meeting key, "… safety code"), 6 at a time. */
export async function safetyCodeIndices(meetingKey) {
  const bytes = await meetingKey.derive(info(LABELS.safetyCode), 6);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  return Array.from({ length: CODE_LENGTH }, (_, i) => Number((bits >> BigInt(48 - 6 * (i + 1))) & 63n));
}

/** { emoji: '🐶 🚀 …', names: ['dog', 'rocket', …], indices }. */
export async function safetyCode(meetingKey) {
  const indices = await safetyCodeIndices(meetingKey);
  const items = indices.map((i) => EMOJI[i]);
  return {
    indices,
    emoji: items.map((e) => e.emoji).join(' '),
    names: items.map((e) => e.name),
  };
}
