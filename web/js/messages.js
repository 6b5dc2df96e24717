// Plain words for the server's stable error codes (docs/protocol.md), from the catalogue
// (i18n.js: `screen.<code>.title` / `.text`, `error.<code>`). The server's own English
// `message` is used only for a code not known here.

import { locale, t } from './i18n.js';

/**
 * What a suspension stops, said the same way by the banner and by a refused action: mics,
 * cameras, chat and reactions (server/src/room: suspend), never messages to the facilitators.
 */
export const suspendedWords = () => t('room.suspended');

/** Codes that end the attempt to join and get a screen of their own: may the person retry? */
const SCREENS = {
  unknown_room: false,
  room_full: true,
  server_stopping: true,
  media_unavailable: true,
  connection_lost: true,
  too_many_connections: true,
  too_many_attempts: true,
  replaced: true,
  too_many_waiting: true,
  room_busy: true,
  room_locked: true,
  banned: false,
  banned_while_waiting: false,
  removed: false,
  denied: false,
  meeting_ended: false,
  left: true,
  bad_key: false,
  cannot_connect: true,
};

/** Errors shown in the meeting without leaving it (each has `error.<code>` in the catalogue). */
const SENTENCES = new Set([
  'bad_message', 'message_too_large', 'not_joined', 'already_joined', 'invalid_name',
  'name_taken_by_staff', 'unknown_ban', 'bad_sdp', 'negotiation_in_progress', 'not_permitted',
  'unknown_participant', 'cannot_unmute', 'muted_by_facilitator', 'camera_stopped',
  'already_suspended', 'not_suspended', 'chat_disabled', 'private_messages_disabled',
  'rate_limited', 'message_too_long', 'empty_message', 'message_not_encrypted', 'unknown_message', 'not_in_queue',
  'already_in_queue', 'queue_empty', 'not_floor_holder', 'no_floor', 'invalid_setting',
  'meeting_ended', 'not_admitted', 'unexpected_answer', 'unknown_reading',
  'unknown_paragraph', 'reading_too_long', 'empty_reading', 'too_many_readings',
  'not_standing', 'store_failed', 'screen_share_not_allowed', 'screen_share_busy',
  'not_sharing_screen', 'invalid_key_id',
]);

/** The screen for `code`: `{ code, title, text, retry }`. */
export function screenFor(code, serverMessage) {
  if (code in SCREENS) {
    return { code, title: t(`screen.${code}.title`), text: t(`screen.${code}.text`), retry: SCREENS[code] };
  }
  return {
    code,
    title: t('screen.unknown.title'),
    text: serverMessage || t('screen.unknown.text'),
    retry: true,
  };
}

export function sentenceFor(code, serverMessage) {
  if (code === 'room_suspended') return suspendedWords();
  if (SENTENCES.has(code)) return t(`error.${code}`);
  return serverMessage ?? t('error.unknown');
}

/**
 * "This meeting opens at 7:15 pm your time (in 25 minutes)": the `opens_at` of a
 * `meeting_closed` refusal in the browser's own zone; the weekday is added when it is not
 * today. `opensAt` null: the meeting has no more dates.
 */
export function opensSentence(opensAt, now = new Date(), lang = locale()) {
  if (!opensAt) return t('closed.noMoreDates');
  const sameDay = new Intl.DateTimeFormat(lang, { dateStyle: 'short' });
  const time = new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' }).format(opensAt);
  const day = new Intl.DateTimeFormat(lang, { weekday: 'long' }).format(opensAt);
  const until = untilWords(opensAt - now);
  return sameDay.format(opensAt) === sameDay.format(now)
    ? t('closed.opensToday', { time, until })
    : t('closed.opensOn', { day, time, until });
}

function untilWords(ms) {
  const minutes = Math.max(0, Math.ceil(ms / 60000));
  if (minutes <= 1) return t('closed.inAMinute');
  if (minutes < 60) return t('closed.inMinutes', { count: minutes });
  const hours = Math.round(minutes / 60);
  if (hours < 48) return t('closed.inHours', { count: hours });
  return t('closed.inDays', { count: Math.round(hours / 24) });
}

/** Said after the time while we wait to join by ourselves. */
export const letInWhenOpen = () => t('closed.letIn');
