// The admin API (docs/admin.md): every request carries X-Haven-Admin: 1 (the server's CSRF
// rule); a refusal becomes an ApiError with the API's stable code, said in kind words.

import { has } from '../i18n.js';

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message || code);
    this.code = code;
    this.status = status;
  }
}

/** `method` `/api/admin{path}` with an optional JSON body; the answer's JSON, or null. */
export async function api(method, path, body) {
  const headers = { 'X-Haven-Admin': '1', Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`/api/admin${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError('network', '', 0);
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(data?.code ?? 'unexpected', data?.message ?? '', response.status);
  return data;
}

/**
 * What a refusal means to the person at the page, in their language: the words for its stable
 * code (`admin.error.<code>`, one for every code of docs/admin.md's table). For a form the
 * server refused (invalid_schedule, invalid_meeting, bad_request) its own sentence names the
 * field exactly, so it follows our words, as the server wrote it (its `message`, in English).
 * Returns [key, params] for setText, so a change of language says it again.
 */
export function kindWords(error) {
  if (SERVER_SAYS.has(error.code) && error.message) return ['admin.error.serverSays', { message: error.message }];
  return [has(`admin.error.${error.code}`) ? `admin.error.${error.code}` : 'admin.error.unexpected'];
}

/** The server's own sentence is the most precise for these. */
const SERVER_SAYS = new Set(['invalid_schedule', 'invalid_meeting', 'bad_request']);
