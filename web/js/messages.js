// Plain words for the server's stable error codes (docs/protocol.md). The server's own
// `message` is used when a code is not known here.

/**
 * What a suspension stops, said the same way by the banner and by a refused action: mics,
 * cameras, chat and reactions (server/src/room: suspend), never messages to the facilitators.
 */
export const SUSPENDED_WORDS =
  "The facilitators paused the meeting for everyone's safety. Mics, cameras, chat and reactions are off for now. You can still write to the facilitators.";

/** Codes that end the attempt to join and get a screen of their own. */
export const SCREENS = {
  unknown_room: {
    title: "This meeting link doesn't work",
    text: 'There is no meeting with this link. The meeting may have ended, or part of the link may be missing. Please ask the person who shared it for the link again.',
    retry: false,
  },
  room_full: {
    title: 'This meeting is full',
    text: 'The meeting has reached the number of people it can hold. You could try again in a little while.',
    retry: true,
  },
  server_stopping: {
    title: 'The meeting server is restarting',
    text: 'The server hosting this meeting is restarting. Please try again in a minute.',
    retry: true,
  },
  media_unavailable: {
    title: "Sound and video couldn't start",
    text: 'The server could not set up sound and video for you. Please try joining again.',
    retry: true,
  },
  connection_lost: {
    title: 'The connection was lost',
    text: 'Haven lost its connection to the meeting. Check your internet connection, then rejoin.',
    retry: true,
  },
  too_many_connections: {
    title: 'Too many connections from your network',
    text: 'Your network already has many meeting windows open. Close the ones you are not using, then try again.',
    retry: true,
  },
  too_many_attempts: {
    title: 'Please wait a moment',
    text: 'There were many attempts to join from your network in the last minute. Please wait a minute, then try again.',
    retry: true,
  },
  replaced: {
    title: 'This meeting is open somewhere else',
    text: 'You came back into this meeting from another connection or window, so this one was closed.',
    retry: true,
  },
  too_many_waiting: {
    title: 'Several people from your network are waiting',
    text: 'A few people from the same network as you are already in the waiting room. Please wait until a facilitator has let them in, then try again.',
    retry: true,
  },
  room_busy: {
    title: 'Many people are arriving at once',
    text: 'The waiting room is taking a lot of arrivals right now. Please try again in a minute.',
    retry: true,
  },
  room_locked: {
    title: 'This meeting is locked',
    text: 'The facilitators have locked the meeting, so no one new can come in right now. You could try again later or contact the group.',
    retry: true,
  },
  banned: {
    title: "You can't join this meeting",
    text: 'A facilitator removed you from this meeting and you cannot come back to it. Take care of yourself.',
    retry: false,
  },
  banned_while_waiting: {
    title: "You can't join this meeting",
    text: 'A facilitator did not let you in to this meeting, and you cannot join it again. Take care of yourself.',
    retry: false,
  },
  removed: {
    title: 'A facilitator removed you from the meeting',
    text: 'You are no longer in the meeting. If you think this was a mistake, contact the group.',
    retry: false,
  },
  denied: {
    title: 'You were not let in',
    text: 'A facilitator did not let you into this meeting. If you think this was a mistake, contact the group.',
    retry: false,
  },
  meeting_ended: {
    title: 'The meeting has ended',
    text: 'Thank you for being here. Take care until next time.',
    retry: false,
  },
  left: {
    title: 'You left the meeting',
    text: 'Thank you for being here. Take care.',
    retry: true,
  },
  bad_key: {
    title: "The facilitator link doesn't work",
    text: 'The facilitator part of this link is not right for this meeting. Check the link, or join with the member link.',
    retry: false,
  },
  cannot_connect: {
    title: "Haven couldn't reach the meeting",
    text: 'The meeting server did not answer. Check your internet connection and try again.',
    retry: true,
  },
};

/** Errors shown in the meeting without leaving it. */
const SENTENCES = {
  bad_message: 'Something went wrong talking to the server. You are still in the meeting.',
  message_too_large: 'That was too large to send.',
  not_joined: 'You are not in the meeting yet.',
  already_joined: 'You are already in the meeting.',
  invalid_name: 'Please choose a name of 1 to 32 characters.',
  name_taken_by_staff: "That name is too close to a facilitator's. Please choose another.",
  unknown_ban: 'That ban was already lifted.',
  bad_sdp: 'Sound and video could not be set up. Try leaving and rejoining.',
  negotiation_in_progress: 'Sound and video are still being set up.',
  not_permitted: 'Only a facilitator can do that.',
  unknown_participant: 'That person is no longer in the meeting.',
  cannot_unmute: "You can't unmute right now. A facilitator will let you speak when it's your turn.",
  muted_by_facilitator:
    'A facilitator muted you. You can unmute when a facilitator lets you speak again, or when you are called to share.',
  camera_stopped: "You can't turn your camera on right now. A facilitator turned it off.",
  room_suspended: SUSPENDED_WORDS,
  already_suspended: 'The meeting is already paused.',
  not_suspended: 'The meeting is not paused.',
  chat_disabled: 'Chat is off right now. You can still write to the facilitators.',
  private_messages_disabled: 'Private messages between members are off in this meeting.',
  rate_limited: 'That was a lot at once. Please wait a moment and try again.',
  message_too_long: 'That message is too long: at most 1000 characters.',
  empty_message: 'Please type a message first.',
  unknown_message: 'That message was already deleted.',
  not_in_queue: 'Your hand is not raised.',
  already_in_queue: 'Your hand is already raised.',
  queue_empty: 'No hands are raised.',
  not_floor_holder: 'You are not sharing right now.',
  no_floor: 'No one is sharing right now.',
  invalid_setting: 'That setting value is not allowed.',
  meeting_ended: 'The meeting has ended.',
  not_admitted: 'A facilitator has not let you in yet.',
  unexpected_answer: 'Sound and video got out of step. Try leaving and rejoining if you cannot see or hear people.',
};

export function screenFor(code, serverMessage) {
  return (
    SCREENS[code] ?? {
      title: 'You are no longer in the meeting',
      text: serverMessage || 'The meeting server ended your session.',
      retry: true,
    }
  );
}

export function sentenceFor(code, serverMessage) {
  return SENTENCES[code] ?? serverMessage ?? 'Something went wrong.';
}

/**
 * "This meeting opens at 7:15 pm your time (in 25 minutes)": the `opens_at` of a
 * `meeting_closed` refusal in the browser's own zone; the weekday is added when it is not
 * today. `opensAt` null: the meeting has no more dates.
 */
export function opensSentence(opensAt, now = new Date(), locale = undefined) {
  if (!opensAt) return 'This meeting has no more dates.';
  const sameDay = new Intl.DateTimeFormat(locale, { dateStyle: 'short' });
  const time = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' }).format(opensAt);
  const day = new Intl.DateTimeFormat(locale, { weekday: 'long' }).format(opensAt);
  const when = sameDay.format(opensAt) === sameDay.format(now) ? `at ${time}` : `on ${day} at ${time}`;
  return `This meeting opens ${when} your time (${untilWords(opensAt - now)}).`;
}

function untilWords(ms) {
  const minutes = Math.max(0, Math.ceil(ms / 60000));
  if (minutes <= 1) return 'in a minute';
  if (minutes < 60) return `in ${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return hours === 1 ? 'in an hour' : `in ${hours} hours`;
  return `in ${Math.round(hours / 24)} days`;
}

/** Said after the time while we wait to join by ourselves. */
export const LET_IN_WHEN_OPEN = "We'll let you in when it opens.";
