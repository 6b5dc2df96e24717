// Debian's Chromium and Firefox ESR through puppeteer-core, headless, with fake media
// devices. Nothing is ever downloaded. A Firefox that must share a screen runs with a
// window on its own Xvfb display (`launchFirefox({ screen: true })`).

import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

export const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const FIREFOX_BIN = process.env.FIREFOX_BIN || '/usr/bin/firefox-esr';
export const XVFB_BIN = process.env.XVFB_BIN || '/usr/bin/Xvfb';

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
 *
 * `screen: true` gives it a screen to share: headless Firefox has none (getDisplayMedia
 * answers NotFoundError whatever the fake-media preferences), so it runs with a window on a
 * private Xvfb display, and with `media.navigator.permission.disabled` getDisplayMedia takes
 * that display's whole screen ("Primary Monitor") without a picker. `close()` stops Xvfb.
 */
export async function launchFirefox({
  width = 1024,
  height = 720,
  executablePath = FIREFOX_BIN,
  debuggingPort = 0,
  acceptInsecureCerts = false,
  prefs = {},
  screen = false,
} = {}) {
  const xvfb = screen ? await startXvfb({ width, height }) : null;
  let browser;
  try {
    browser = await launchFirefoxOn(xvfb, { width, height, executablePath, debuggingPort, acceptInsecureCerts, prefs });
  } catch (err) {
    await xvfb?.stop();
    throw err;
  }
  return wrap(browser, 'firefox', async () => {
    await xvfb?.stop();
  });
}

function launchFirefoxOn(xvfb, { width, height, executablePath, debuggingPort, acceptInsecureCerts, prefs }) {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath,
    debuggingPort,
    acceptInsecureCerts,
    headless: !xvfb,
    ...(xvfb && { env: { ...process.env, DISPLAY: xvfb.display }, args: [`--window-size=${width},${height}`] }),
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
}

/**
 * Xvfb on a display number of its own choosing (`-displayfd`: the first free one, written
 * back once it takes connections), a screen of `width`×`height`. `stop()` ends it and waits.
 */
async function startXvfb({ width, height }) {
  const child = spawn(XVFB_BIN, ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (d) => {
    errors = (errors + d).slice(-2000);
  });
  // An Xvfb that never started emits 'error' and no 'exit'.
  const exited = new Promise((resolve) => {
    child.once('exit', resolve);
    child.once('error', resolve);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const display = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`Xvfb gave no display in 10 s: ${errors}`)), 10_000);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`Xvfb (${XVFB_BIN}) did not start: ${err.message}; tests/setup.sh installs it`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Xvfb exited (${code}): ${errors}`));
      });
      child.stdio[3].on('data', (d) => {
        out += d;
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(`:${out.trim()}`);
        }
      });
    });
    return { display, stop };
  } catch (err) {
    await stop();
    throw err;
  }
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
