// An organisation's stored meetings for a test that needs them but is not about the admin
// page (admin.test.js is): `haven admin create` on the test's data directory, as an operator
// runs it, then the admin API from Node with the session cookie it hands back.

import { spawn } from 'node:child_process';
import { HAVEN_BIN } from './server.js';

/** `haven admin create <name> --password-stdin` on `dataDir`. */
export function createAdmin(dataDir, name, password) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HAVEN_')));
  env.HAVEN_DATA_DIR = dataDir;
  return new Promise((resolve, reject) => {
    const child = spawn(HAVEN_BIN, ['admin', 'create', name, '--password-stdin'], { env });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`admin create: ${code}\n${output}`))));
    child.stdin.end(`${password}\n`);
  });
}

/**
 * Signs in on the server at `url` (plain HTTP from this computer is allowed) and returns
 * `api(method, route, body)` → `{ status, body }` for `/api/admin{route}`.
 */
export async function adminApi(url, name, password) {
  const headers = { 'X-Haven-Admin': '1', Origin: url, 'Content-Type': 'application/json' };
  const login = await fetch(`${url}/api/admin/login`, { method: 'POST', headers, body: JSON.stringify({ name, password }) });
  if (login.status !== 204) throw new Error(`admin sign-in: ${login.status} ${await login.text()}`);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  return async (method, route, body) => {
    const r = await fetch(`${url}/api/admin${route}`, {
      method,
      headers: { ...headers, Cookie: cookie },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  };
}

/** The weekday (`mon`…) and HH:MM in `zone` of `date`, as a schedule's rule takes them. */
export function wallClock(date, zone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return { day: parts.weekday.toLowerCase(), time: `${parts.hour}:${parts.minute}` };
}

/** Sets a field as typing would (time, date and number fields differ between browsers). */
export async function setField(page, id, value) {
  await page.$eval(`#${id}`, (el, v) => {
    el.value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}
