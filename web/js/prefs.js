// The person's own choices of how the meeting looks and sounds, kept in this browser under
// one localStorage key (`haven.prefs`, JSON): speaker view or grid, "Hide my video", the
// arrival chime, the single-key shortcuts, the language (i18n.js; null: the browser's), the
// microphone, camera and speaker (devices.js: the browser's device ids for this site). Only
// this person's own choices go in: never a name, a pin or anything else about the other
// people in a meeting (PRODUCT.md rule 3).
// Anything unreadable in storage counts as the defaults; refused storage (private mode)
// keeps the choices for this page only. Imports nothing.

const KEY = 'haven.prefs';

/** Each preference: its default, and what a stored value must be to be believed. */
const FIELDS = {
  layout: { fallback: 'grid', valid: (v) => v === 'grid' || v === 'speaker' },
  hideSelf: { fallback: false, valid: (v) => typeof v === 'boolean' },
  chime: { fallback: false, valid: (v) => typeof v === 'boolean' },
  shortcuts: { fallback: true, valid: (v) => typeof v === 'boolean' },
  language: { fallback: null, valid: (v) => v === null || (typeof v === 'string' && /^[a-z]{2,3}(-[a-z0-9]{1,8})*$/i.test(v)) },
  devices: { fallback: Object.freeze({}), valid: validDevices },
};

/** `{audio?, video?, output?}`: a device id (a string the browser made up) for each kind chosen. */
function validDevices(v) {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  return Object.entries(v).every(([kind, id]) => ['audio', 'video', 'output'].includes(kind) && typeof id === 'string' && id.length > 0 && id.length <= 500);
}

/**
 * The keys of earlier versions ('on' / 'off'), read once into `haven.prefs` and then removed,
 * so nobody loses a setting they made before.
 */
const OLD_KEYS = { chime: 'haven.chime', shortcuts: 'haven.shortcuts' };

/** devices.js's own key of earlier versions (`{audio?, video?, output?}` as JSON). */
const OLD_DEVICES_KEY = 'haven.devices';

const defaults = () => Object.fromEntries(Object.entries(FIELDS).map(([name, f]) => [name, f.fallback]));

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // refused outright (some private modes throw on the getter)
  }
}

function load() {
  const prefs = defaults();
  const store = storage();
  let raw = null;
  try {
    raw = store?.getItem(KEY) ?? null;
  } catch {
    return prefs;
  }
  let saved = null;
  try {
    saved = JSON.parse(raw);
  } catch {
    // not JSON: the defaults
  }
  if (saved && typeof saved === 'object' && !Array.isArray(saved)) {
    for (const [name, f] of Object.entries(FIELDS)) if (f.valid(saved[name])) prefs[name] = saved[name];
  }
  if (raw === null) migrate(prefs, store);
  migrateDevices(prefs, store);
  return prefs;
}

/**
 * devices.js kept its choices under a key of its own: take them over once (a choice already
 * in `haven.prefs` is newer and wins), then drop that key. Read on every load, not only the
 * first: `haven.prefs` may exist already, made by an earlier choice of language or layout.
 */
function migrateDevices(prefs, store) {
  let old = null;
  try {
    old = store?.getItem(OLD_DEVICES_KEY) ?? null;
  } catch {
    return;
  }
  if (old === null) return;
  let devices = null;
  try {
    devices = JSON.parse(old);
  } catch {
    // unreadable: nothing to keep
  }
  if (validDevices(devices) && Object.keys(prefs.devices).length === 0) {
    prefs.devices = devices;
    if (!save(prefs)) return; // kept: read again next time, with the same result
  }
  try {
    store.removeItem(OLD_DEVICES_KEY);
  } catch {
    // kept: read again next time, with the same result
  }
}

/** First run with `haven.prefs`: take over the older keys' values, then drop those keys. */
function migrate(prefs, store) {
  let found = false;
  for (const [name, key] of Object.entries(OLD_KEYS)) {
    let old = null;
    try {
      old = store?.getItem(key) ?? null;
    } catch {
      return;
    }
    if (old !== 'on' && old !== 'off') continue;
    prefs[name] = old === 'on';
    found = true;
  }
  if (!found) return;
  if (!save(prefs)) return;
  for (const key of Object.values(OLD_KEYS)) {
    try {
      store.removeItem(key);
    } catch {
      // kept: it is read again next time, with the same result
    }
  }
}

/** Writes all the preferences; false when storage refused. */
function save(prefs) {
  try {
    // An unset choice (null: the browser's language; no device chosen) is left out.
    const unset = (key, value) => value === null || (key === 'devices' && Object.keys(value).length === 0);
    storage()?.setItem(KEY, JSON.stringify(prefs, (key, value) => (key && unset(key, value) ? undefined : value)));
    return true;
  } catch {
    return false;
  }
}

const current = load();

/** The preference `name` (one of layout, hideSelf, chime, shortcuts, language, devices). */
export function pref(name) {
  return current[name];
}

/**
 * Sets and keeps `name`; a value that is not valid for it is ignored. The others are read
 * afresh first: another tab of this browser may have changed one since this page loaded.
 */
export function setPref(name, value) {
  if (!FIELDS[name]?.valid(value)) return;
  current[name] = value;
  save({ ...load(), [name]: value });
}
