// The message catalogues (web/js/locales/, docs/i18n.md), checked without a browser: every
// language has exactly English's keys with the same {placeholders}, plurals have `other`,
// and every key the pages and the scripts use exists, so no person ever sees a raw key or a
// word in the wrong language. Also: no words in the translated pages (meeting.html,
// index.html, not-found.html, meetings.html, admin.html) left unmarked, every error code of
// the protocol and of the admin API with words, and every meeting type the directory and the
// admin page show named in every catalogue.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { REPO, WEB_DIR } from '../lib/server.js';

const LOCALES = path.join(WEB_DIR, 'js/locales');
const PLURAL_CATEGORIES = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);

async function catalogue(code) {
  return (await import(pathToFileURL(path.join(LOCALES, `${code}.js`)).href)).default;
}

const codes = readdirSync(LOCALES)
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3));

/** The {placeholders} of a value, over all its plural forms. */
function placeholders(value) {
  const forms = typeof value === 'object' ? Object.values(value) : [value];
  return [...new Set(forms.flatMap((text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1])))].sort();
}

/** Every file under `dir` ending in `ext`, but not the catalogues. */
function files(dir, ext) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return full === LOCALES ? [] : files(full, ext);
    return entry.name.endsWith(ext) ? [full] : [];
  });
}

/** The pages whose words are translated: all of them. */
const PAGES = ['meeting.html', 'index.html', 'not-found.html', 'meetings.html', 'admin.html'];

test('every_catalogue_has_exactly_the_english_keys_and_placeholders', async () => {
  const en = await catalogue('en');
  assert.ok(codes.includes('es'), 'Spanish ships');
  assert.ok(Object.keys(en).length > 300, 'the English catalogue holds the pages’ words');
  for (const code of codes) {
    const words = await catalogue(code);
    const missing = Object.keys(en).filter((k) => !(k in words));
    const extra = Object.keys(words).filter((k) => !(k in en));
    assert.deepEqual(missing, [], `${code} lacks keys`);
    assert.deepEqual(extra, [], `${code} has keys English does not`);
    for (const [key, value] of Object.entries(words)) {
      assert.equal(typeof value === 'object', typeof en[key] === 'object', `${code} ${key}: a plural in one and not the other`);
      assert.deepEqual(placeholders(value), placeholders(en[key]), `${code} ${key}: placeholders`);
      if (typeof value === 'object') {
        assert.equal(typeof value.other, 'string', `${code} ${key}: a plural needs "other"`);
        for (const category of Object.keys(value)) assert.ok(PLURAL_CATEGORIES.has(category), `${code} ${key}: ${category}`);
      } else {
        assert.equal(typeof value, 'string', `${code} ${key}`);
        assert.ok(value.length > 0, `${code} ${key} is empty`);
      }
    }
  }
});

test('every_plural_key_is_given_a_count_and_spanish_differs_from_english', async () => {
  const en = await catalogue('en');
  const es = await catalogue('es');
  for (const [key, value] of Object.entries(en)) {
    if (typeof value === 'object') assert.ok(placeholders(value).includes('count') || key === 'closed.inHours', `${key}: a plural shows its {count}`);
  }
  // A catalogue copied from English and not translated would pass the key test.
  const same = Object.keys(en).filter((k) => typeof en[k] === 'string' && en[k] === es[k] && /[a-z]{3}/.test(en[k].replace(/\{\w+\}/g, '')));
  // "Chat" is Spanish too; "Haven" is a name; the Meeting Guide spec's Spanish for these types is the English word.
  const allowed = new Set(['chat.heading', 'page.titleWithRoom', 'type.A', 'type.G', 'type.BI']);
  assert.deepEqual(same.filter((k) => !allowed.has(k)), [], 'Spanish words left in English');
});

test('every_key_the_pages_and_scripts_use_is_in_english', async () => {
  const en = await catalogue('en');
  const used = new Map();
  const use = (key, where) => used.set(key, where);
  for (const file of PAGES.map((p) => path.join(WEB_DIR, p))) {
    const html = readFileSync(file, 'utf8');
    for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) use(m[1], file);
    for (const m of html.matchAll(/data-i18n-attr="([^"]+)"/g)) {
      for (const pair of m[1].split(';')) use(pair.split(':')[1], file);
    }
  }
  let templates = 0;
  for (const file of files(path.join(WEB_DIR, 'js'), '.js')) {
    const source = readFileSync(file, 'utf8');
    // The arguments of t(…), setText(…), setTextOr(…) and setAttr(…), up to the matching
    // parenthesis; and of say(…), a key handed back to be given to t() (directory/when.js).
    for (const m of source.matchAll(/\b(?:t|setText|setTextOr|setAttr|say)\(/g)) {
      let depth = 1;
      let i = m.index + m[0].length;
      const start = i;
      while (depth > 0 && i < source.length) {
        if (source[i] === '(') depth += 1;
        if (source[i] === ')') depth -= 1;
        i += 1;
      }
      const args = source.slice(start, i - 1);
      for (const k of args.matchAll(/'([a-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+)'/g)) use(k[1], file);
      // A key built from a code (`screen.${code}.title`): at least one key of that shape.
      for (const k of args.matchAll(/`([a-z][A-Za-z0-9_.]*\$\{[^}]+\}[A-Za-z0-9_.]*)`/g)) {
        const shape = new RegExp(`^${k[1].replace(/\./g, '\\.').replace(/\$\{[^}]+\}/g, '[A-Za-z0-9_]+')}$`);
        assert.ok(Object.keys(en).some((key) => shape.test(key)), `${file}: no key like ${k[1]}`);
        templates += 1;
      }
    }
    // Tables of keys handed to t() later (MIC_LOOK, ROLE_NAMES, RESTART_WORDS …).
    for (const m of source.matchAll(/:\s*'((?:bar|media|mic|restart|chat|devices|reception)\.[A-Za-z0-9_.]+)'/g)) use(m[1], file);
  }
  assert.ok(used.size > 300, `found the keys in use (${used.size})`);
  assert.ok(templates >= 5, 'found the keys built from codes');
  const unknown = [...used].filter(([key]) => !(key in en)).map(([key, where]) => `${key} (${path.basename(where)})`);
  assert.deepEqual(unknown, []);
});

test('every_server_code_with_words_has_them_in_english', async () => {
  const en = await catalogue('en');
  const messages = readFileSync(path.join(WEB_DIR, 'js/messages.js'), 'utf8');
  const screens = messages.slice(messages.indexOf('const SCREENS'), messages.indexOf('};', messages.indexOf('const SCREENS')));
  const screenCodes = [...screens.matchAll(/^\s+(\w+): (?:true|false),/gm)].map((m) => m[1]);
  assert.ok(screenCodes.includes('unknown_room') && screenCodes.length > 15, 'found the screen codes');
  for (const code of screenCodes) {
    assert.ok(en[`screen.${code}.title`] && en[`screen.${code}.text`], `screen ${code}`);
  }
  const sentences = [.../new Set\(\[([^\]]+)\]\)/.exec(messages)[1].matchAll(/'(\w+)'/g)].map((m) => m[1]);
  assert.ok(sentences.includes('cannot_unmute'), 'found the sentence codes');
  for (const code of sentences) assert.ok(en[`error.${code}`], `error ${code}`);
  // Every error code of the protocol (docs/protocol.md, "Error codes") the meeting page can be
  // sent has its words, but those it handles without words of their own.
  const protocol = readFileSync(path.join(REPO, 'docs/protocol.md'), 'utf8');
  const table = protocol.slice(protocol.indexOf('## Error codes'), protocol.indexOf('\n## ', protocol.indexOf('## Error codes') + 5));
  const documented = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
  assert.ok(documented.length > 40, 'found the protocol error codes');
  // meeting_closed: the join screen says when it opens; guidelines_not_accepted: "I agree"
  // asked again; resume_failed: joins afresh; unknown_track: reception.js drops the report.
  const handled = new Set(['meeting_closed', 'guidelines_not_accepted', 'resume_failed', 'unknown_track', 'room_suspended']);
  const wordless = documented.filter((c) => !handled.has(c) && !en[`error.${c}`] && !en[`screen.${c}.title`]);
  assert.deepEqual(wordless, [], 'protocol error codes without words');
  for (const code of documented.filter((c) => en[`error.${c}`] && !en[`screen.${c}.title`])) {
    assert.ok(sentences.includes(code), `messages.js lists ${code}`);
  }
  for (const reaction of ['heart', 'me_too', 'clap', 'wave', 'thumbs_up']) {
    assert.ok(en[`reactions.words.${reaction}`] && en[`reactions.${reaction}`], reaction);
  }
  for (const kind of ['audio', 'video']) {
    for (const what of ['notAllowed', 'notFound', 'busy', 'notSupported', 'failed']) assert.ok(en[`media.error.${what}.${kind}`]);
    assert.ok(en[`devices.lost.${kind}`]);
  }
  for (const link of ['good', 'poor', 'sound_only']) assert.ok(en[`reception.link.${link}`] && en[`reception.word.${link}`]);
});

test('every_admin_api_error_code_has_words_in_english', async () => {
  // The admin page says each refusal of the admin API (docs/admin.md, "Error codes") from its
  // code (web/js/admin/api.js: `admin.error.<code>`), never from the server's English message
  // alone; plus its own two, for no answer and an answer it cannot read.
  const en = await catalogue('en');
  const doc = readFileSync(path.join(REPO, 'docs/admin.md'), 'utf8');
  const start = doc.indexOf('### Error codes');
  const table = doc.slice(start, doc.indexOf('\n#', start + 5));
  const documented = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
  assert.ok(documented.length >= 18 && documented.includes('bad_credentials'), `found the admin API's error codes (${documented.length})`);
  const wordless = [...documented, 'network', 'unexpected'].filter((c) => !en[`admin.error.${c}`]);
  assert.deepEqual(wordless, [], 'admin API error codes without words');
});

/**
 * Words in a page outside any data-i18n element, and aria-label / title / placeholder
 * attributes without a data-i18n-attr for them: English a Spanish reader would meet.
 */
function unmarked(html) {
  const found = [];
  const source = html
    .replace(/<!doctype[^>]*>/i, '')
    .replace(/<!--[\s\S]*?-->/g, '').replace(/<(script|style|svg)\b[\s\S]*?<\/\1>/g, '');
  const VOID = new Set(['input', 'meta', 'link', 'br', 'img', 'hr', 'source', 'track', 'wbr']);
  const stack = []; // one boolean per open element: inside a marked element
  for (const m of source.matchAll(/<(\/?)([a-zA-Z0-9-]+)([^>]*)>|([^<]+)/g)) {
    const [, closing, tag, attrs, text] = m;
    if (text !== undefined) {
      const words = text.replace(/&[a-z]+;/g, ' ').trim();
      if (/\p{L}{2,}/u.test(words) && !stack.at(-1) && words !== 'Haven') found.push(words);
      continue;
    }
    if (closing) {
      stack.pop();
      continue;
    }
    const marked = (stack.at(-1) ?? false) || /\bdata-i18n="/.test(attrs);
    for (const attr of ['aria-label', 'title', 'placeholder']) {
      if (new RegExp(`\\s${attr}="[^"]*\\p{L}`, 'u').test(attrs) && !new RegExp(`data-i18n-attr="[^"]*\\b${attr}:`).test(attrs)) {
        found.push(`${tag} ${attr}`);
      }
    }
    if (!VOID.has(tag.toLowerCase()) && !attrs.trim().endsWith('/')) stack.push(marked);
  }
  return found;
}

test('no_words_in_the_translated_pages_are_left_unmarked', () => {
  assert.deepEqual(unmarked('<p>Hello <span data-i18n="x">there</span></p>'), ['Hello'], 'the check itself finds words');
  assert.deepEqual(unmarked('<b aria-label="Hi"></b>'), ['b aria-label'], 'the check itself finds attributes');
  for (const page of PAGES) {
    assert.deepEqual(unmarked(readFileSync(path.join(WEB_DIR, page), 'utf8')), [], page);
  }
  // A page not translated yet (none today) says so, and stays English whole (i18n.js), shared modules included.
  for (const page of readdirSync(WEB_DIR).filter((f) => f.endsWith('.html') && !PAGES.includes(f))) {
    assert.match(readFileSync(path.join(WEB_DIR, page), 'utf8'), /<html lang="en" data-untranslated>/, page);
  }
});

test('no_english_sentences_are_left_in_the_translated_scripts', () => {
  // A string literal that reads as an English sentence or label, outside comments, in any
  // module a page loads: it should be a key. An Error's message is for the console (the person
  // is told from its name or code), so it may stay English.
  // meeting-types.js: the English names, the table the server's is checked against.
  const skip = new Set(['meeting-types.js']);
  const found = [];
  for (const file of files(path.join(WEB_DIR, 'js'), '.js')) {
    if (skip.has(path.basename(file))) continue;
    const code = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '')
      .replace(/console\.\w+\([^;]*;/g, '')
      .replace(/new (?:Error|DOMException)\((['"`])(?:(?!\1).)*\1/g, '');
    for (const m of code.matchAll(/(['"`])((?:(?!\1)[^\\\n]|\\.)*)\1/g)) {
      const text = m[2];
      if (/^[A-Z][a-z]+(?: [A-Za-z']+)+[.!?…]?$/.test(text) && !/Error$/.test(text)) found.push(`${path.basename(file)}: ${text}`);
    }
  }
  assert.deepEqual(found, []);
});

test('every_meeting_type_is_named_in_every_catalogue', async () => {
  // The directory names a type by its Meeting Guide code (`type.<code>`), in the page's
  // language; English is the table's own name (web/js/meeting-types.js, the server's too).
  const { MEETING_TYPES } = await import(pathToFileURL(path.join(WEB_DIR, 'js/meeting-types.js')).href);
  assert.ok(MEETING_TYPES.length > 30, 'found the meeting types');
  const en = await catalogue('en');
  for (const [code, name] of MEETING_TYPES) assert.equal(en[`type.${code}`], name, `en type.${code}`);
  for (const code of codes) {
    const words = await catalogue(code);
    const unnamed = MEETING_TYPES.filter(([c]) => typeof words[`type.${c}`] !== 'string' || !words[`type.${c}`]).map(([c]) => c);
    assert.deepEqual(unnamed, [], `${code}: meeting types without a name`);
  }
  // And no name for a type that is not in the table.
  const known = new Set(MEETING_TYPES.map(([c]) => `type.${c}`));
  assert.deepEqual(Object.keys(en).filter((k) => k.startsWith('type.') && !known.has(k)), []);
  // A few of the spec's own Spanish names, as groups know them (code4recovery/spec, data/types.json).
  const es = await catalogue('es');
  assert.deepEqual(['O', 'C', 'BE', 'SP', 'B', 'GR'].map((c) => es[`type.${c}`]), ['Abierta', 'Cerrada', 'Principiantes', 'Orador', 'Libro Grande', 'La Viña']);
});
