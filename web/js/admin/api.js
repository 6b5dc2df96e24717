// The admin API (docs/admin.md): every request carries X-Haven-Admin: 1 (the server's CSRF
// rule); a refusal becomes an ApiError with the API's stable code, said in kind words.

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

/** What each stable code means to the person at the page. */
const WORDS = {
  network: "Haven couldn't reach the server. Check your connection and try again.",
  admin_disabled: 'This server keeps no meetings of its own: its operator has not given it a data directory.',
  unauthenticated: 'Your sign-in has ended. Please sign in again.',
  bad_credentials: 'That name and password do not match. Check them and try again.',
  too_many_logins: 'Too many sign-in attempts came from your network. Please wait a while, then try again.',
  https_required: 'For your safety, signing in from another computer needs a secure (https://) address: your password would otherwise cross the network unencrypted. Ask whoever runs this server to set up HTTPS, or sign in on the server itself.',
  csrf_header_missing: 'The server did not accept this request from the page. Reload the page and try again.',
  forbidden_origin: 'The server does not accept admin requests from this address. Open the admin page from the server’s own address.',
  unknown_meeting: 'That meeting is not there any more. The list has been refreshed.',
  unknown_key: 'That facilitator link was already revoked or replaced.',
  invalid_slug: 'An address is 3 to 64 lower-case letters, digits and dashes, starting and ending with a letter or digit.',
  slug_taken: 'Another meeting on this server already uses that address. Choose another, or leave it empty.',
  invalid_time_zone: 'That time zone is not known. Choose one from the list, such as Europe/London.',
  invalid_label: 'A label is 1 to 80 characters, such as "Tuesday chair".',
  store_failed: 'The server could not save that. Please try again in a moment.',
  server_stopping: 'The server is restarting. Please try again in a moment.',
};

/** The server's own sentence is the most precise for these. */
const SERVER_SAYS = new Set(['invalid_schedule', 'invalid_meeting', 'bad_request']);

export function kindWords(error) {
  if (SERVER_SAYS.has(error.code) && error.message) return `That could not be saved: ${error.message}`;
  return WORDS[error.code] ?? 'Something went wrong. Please try again.';
}
