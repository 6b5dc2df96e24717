// The one error type the e2ee modules throw, for input a person or a link supplied (a key in
// a fragment). The hot paths (frames, chat) never throw: they return { ok: false, code }.

export class E2eeError extends Error {
  /** `code` is stable (tests and the UI's catalogue key on it); `message` is for people. */
  constructor(code, message) {
    super(message);
    this.name = 'E2eeError';
    this.code = code;
  }
}

/** A failed result, the shape every non-throwing function returns: never garbage bytes. */
export const failure = (code) => Object.freeze({ ok: false, code });
