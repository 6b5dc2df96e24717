// Plain words for the server's stable error codes (docs/protocol.md). The server's own
// `message` is used when a code is not known here.

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
  bad_sdp: 'Sound and video could not be set up. Try leaving and rejoining.',
  negotiation_in_progress: 'Sound and video are still being set up.',
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
