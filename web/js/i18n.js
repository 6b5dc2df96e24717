// The client's words in the person's language: `t(key, params)` from a catalogue per language
// (web/js/locales/<code>.js, loaded with import()), English for any key a catalogue lacks.
// The language: a `?lang=` in the page's address (for tests, never saved) > the person's
// saved choice (prefs.js) > the browser's languages (first supported primary tag) > English.
// Text only, never HTML. Imports only prefs.js and the catalogues. The catalogue is loaded before any importer runs
// (top-level await), so `t()` is synchronous everywhere.

import { pref, setPref } from './prefs.js';

/**
 * The languages offered, each named in itself. A new language: a file in locales/ and a line
 * here (docs/i18n.md). `listed: false`: reachable by `?lang=` only (the right-to-left
 * pseudo-locale the tests use).
 */
export const LANGUAGES = {
  en: { name: 'English', dir: 'ltr' },
  es: { name: 'Español', dir: 'ltr' },
  'x-rtl': { name: 'RTL (test)', dir: 'rtl', tag: 'en-x-rtl', listed: false },
};

const english = (await import('./locales/en.js')).default;
let code = 'en';
let words = english;
const listeners = new Set();
/** Choices of language made on this page, so a slow catalogue never overrides a later one. */
let switches = 0;

/** The language to use now, by the order above. */
export function chooseLanguage() {
  // A page not translated yet (`<html data-untranslated>`; none today) stays English, even in the modules it shares.
  if (document.documentElement.hasAttribute('data-untranslated')) return 'en';
  const asked = new URLSearchParams(window.location.search).get('lang');
  if (asked && LANGUAGES[asked]) return asked;
  const saved = pref('language');
  if (saved && LANGUAGES[saved]) return saved;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const primary = String(tag || '').toLowerCase().split('-')[0];
    if (LANGUAGES[primary]?.listed !== false && LANGUAGES[primary]) return primary;
  }
  return 'en';
}

async function load(lang) {
  if (lang === 'en') return english;
  try {
    return (await import(`./locales/${lang}.js`)).default;
  } catch (err) {
    console.warn('haven: no catalogue for', lang, err);
    return english;
  }
}

/** The language in use, e.g. 'es' (for Intl formatting: `locale()`). */
export const language = () => code;
export const locale = () => LANGUAGES[code]?.tag ?? code;

/** Languages for the switcher: [code, name] in their own words. */
export const listedLanguages = () => Object.entries(LANGUAGES).filter(([, l]) => l.listed !== false).map(([c, l]) => [c, l.name]);

/**
 * The words for `key`, `{name}` placeholders filled from `params`. A value that is an object
 * is a plural: `{one, other, …}` chosen by `params.count` with Intl.PluralRules.
 */
export function t(key, params = {}) {
  let value = words[key] ?? english[key];
  if (value === undefined) {
    console.warn('haven: no words for', key);
    return key;
  }
  if (typeof value === 'object') {
    const category = new Intl.PluralRules(locale()).select(Number(params.count ?? 0));
    value = value[category] ?? value.other;
  }
  return value.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Whether a catalogue has words for `key` (a key made from data, such as a meeting type's code). */
export const has = (key) => key in words || key in english;

/**
 * Sets an element's text to `t(key, params)` and marks it, so a change of language renders it
 * again (the params live in the page only, like the text itself).
 */
export function setText(el, key, params) {
  el.dataset.i18n = key;
  if (params) el.dataset.i18nParams = JSON.stringify(params);
  else delete el.dataset.i18nParams;
  el.textContent = t(key, params);
}

/**
 * Sets an element's text to what a person wrote (`text`, unmarked: it stays as written in every
 * language), or, when there is none, to `t(key)`, marked like setText. For a meeting's title:
 * an untitled meeting is named in the person's language.
 */
export function setTextOr(el, text, key) {
  if (text) {
    delete el.dataset.i18n;
    delete el.dataset.i18nParams;
    el.textContent = text;
  } else {
    setText(el, key);
  }
}

/** Sets attribute `attr` of `el` to `t(key, params)`, marked like setText. */
export function setAttr(el, attr, key, params) {
  const marks = parseAttrs(el.dataset.i18nAttr).filter(([a]) => a !== attr);
  marks.push([attr, key]);
  el.dataset.i18nAttr = marks.map(([a, k]) => `${a}:${k}`).join(';');
  if (params) el.dataset.i18nAttrParams = JSON.stringify({ ...readJson(el.dataset.i18nAttrParams), [attr]: params });
  el.setAttribute(attr, t(key, params));
}

function parseAttrs(spec) {
  return (spec || '')
    .split(';')
    .map((pair) => pair.split(':').map((s) => s.trim()))
    .filter(([a, k]) => a && k);
}

function readJson(text) {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return {};
  }
}

/** Fills every `data-i18n` (text) and `data-i18n-attr="attr:key;…"` element under `root`. */
export function translatePage(root = document) {
  const scope = root.querySelectorAll ? root : document;
  for (const el of scope.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n, readJson(el.dataset.i18nParams));
  }
  for (const el of scope.querySelectorAll('[data-i18n-attr]')) {
    const params = readJson(el.dataset.i18nAttrParams);
    for (const [attr, key] of parseAttrs(el.dataset.i18nAttr)) el.setAttribute(attr, t(key, params[attr]));
  }
  if (root === document) {
    const title = document.querySelector('title[data-i18n]');
    if (title) document.title = title.textContent;
  }
}

function applyToDocument() {
  const html = document.documentElement;
  html.lang = LANGUAGES[code]?.tag ?? code;
  html.dir = LANGUAGES[code]?.dir ?? 'ltr';
}

/** Switches to `lang` now (the page re-rendered) and, unless `save` is false, keeps the choice. */
export async function setLanguage(lang, { save = true } = {}) {
  if (!LANGUAGES[lang]) return;
  if (save) setPref('language', lang);
  const asked = ++switches;
  const loaded = await load(lang);
  if (asked !== switches) return; // a later choice was made while this one loaded
  words = loaded;
  code = lang;
  applyToDocument();
  translatePage(document);
  for (const fn of listeners) fn(code);
}

/**
 * Fills `select` with the listed languages, each named in itself (and marked with its own
 * `lang`), the one in use selected; choosing one switches the page and keeps the choice.
 */
export function installLanguageSwitcher(select) {
  select.replaceChildren(
    ...listedLanguages().map(([value, name]) => Object.assign(document.createElement('option'), { value, textContent: name, lang: value })),
  );
  select.value = code;
  select.addEventListener('change', () => setLanguage(select.value));
  onLanguageChange(() => {
    if (LANGUAGES[code]?.listed !== false) select.value = code;
  });
}

/** `fn(code)` after each change of language (for words rendered from state, not marked). */
export function onLanguageChange(fn) {
  listeners.add(fn);
}

code = chooseLanguage();
words = await load(code);
applyToDocument();
if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', () => translatePage(document), { once: true });
} else {
  translatePage(document);
}
