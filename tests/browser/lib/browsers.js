// Debian's Chromium and Firefox ESR through puppeteer-core, headless, with fake media
// devices. Nothing is ever downloaded.

import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

export const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const FIREFOX_BIN = process.env.FIREFOX_BIN || '/usr/bin/firefox-esr';

/**
 * Writes an executable into `dir` that runs `bin` (a browser) at CPU niceness `n` with the
 * arguments it is given: pass it as `executablePath`. A test whose browsers stand in for
 * other people's computers (the senders of lib/shaped.js's tests) runs them niced, so that
 * on a 2-core machine they do not take the CPU from the server and the member under test,
 * who in real life do not share it with them.
 */
export async function niced(dir, bin, n = 10) {
  const file = path.join(dir, `${path.basename(bin)}-nice${n}`);
  await writeFile(file, `#!/bin/sh\nexec nice -n ${n} ${bin} "$@"\n`);
  await chmod(file, 0o755);
  return file;
}

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-gpu',
  '--autoplay-policy=no-user-gesture-required',
  // Keep timers and media running in pages that are not in front.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/**
 * A fresh Chromium with its own temporary profile; `close()` removes the profile.
 * `executablePath` may be a wrapper (one that runs Chromium in a network namespace, say);
 * `pipe: true` speaks DevTools over pipes instead of a loopback port.
 */
export async function launchChromium({ width = 1024, height = 720, args = [], executablePath = CHROMIUM_BIN, pipe = false } = {}) {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'haven-chromium-'));
  const removeProfile = () => rm(userDataDir, { recursive: true, force: true });
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: 'chrome',
      executablePath,
      pipe,
      headless: true,
      userDataDir,
      args: [...CHROMIUM_ARGS, `--window-size=${width},${height}`, ...args],
      defaultViewport: { width, height },
      timeout: 30_000,
      dumpio: process.env.HAVEN_DUMPIO === '1',
    });
  } catch (err) {
    // A Chromium that never started leaves its empty profile behind otherwise.
    await removeProfile();
    throw err;
  }
  return wrap(browser, 'chromium', removeProfile);
}

/**
 * A fresh Firefox ESR (WebDriver BiDi) with fake devices and media permission granted.
 * `executablePath` may be a wrapper; `debuggingPort` fixes the BiDi port (0: any);
 * `acceptInsecureCerts` trusts any certificate (a test CA's, say); `prefs` adds Firefox
 * preferences (a language: `intl.locale.requested`, `intl.accept_languages`).
 */
export async function launchFirefox({
  width = 1024,
  height = 720,
  executablePath = FIREFOX_BIN,
  debuggingPort = 0,
  acceptInsecureCerts = false,
  prefs = {},
} = {}) {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath,
    debuggingPort,
    acceptInsecureCerts,
    headless: true,
    defaultViewport: { width, height },
    timeout: 60_000,
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      // Without these, Firefox does not connect to a loopback-only server.
      'permissions.default.camera': 1,
      'permissions.default.microphone': 1,
      'media.peerconnection.ice.loopback': true,
      'media.autoplay.default': 0,
      'media.autoplay.blocking_policy': 0,
      // The network is closed; do not try.
      'app.update.enabled': false,
      'browser.shell.checkDefaultBrowser': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      ...prefs,
    },
  });
  return wrap(browser, 'firefox', async () => {});
}

function wrap(browser, kind, cleanup) {
  return {
    kind,
    browser,
    async newPage() {
      const page = await browser.newPage();
      // The page's read-only test hooks (window.haven) exist only where a test asks first.
      await page.evaluateOnNewDocument(() => {
        window.__havenTestHooks = true;
      });
      page.errors = [];
      page.consoleLines = [];
      page.on('pageerror', (err) => page.errors.push(String(err?.message ?? err)));
      page.on('console', (msg) => page.consoleLines.push(`${msg.type()}: ${msg.text()}`));
      return page;
    },
    async close() {
      try {
        await browser.close();
      } finally {
        await cleanup();
      }
    },
  };
}
