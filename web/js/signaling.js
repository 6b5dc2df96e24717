// The signaling socket (docs/protocol.md). Messages reach the handler strictly one after
// another: a handler may be async (SDP work) and the next message waits for it, so an
// `offer` can never overtake the `answer` before it.

export function signalingUrl(loc = window.location) {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}

export class Signaling {
  #ws = null;
  #chain = Promise.resolve();
  #closing = false;

  /**
   * @param {object} o
   * @param {(msg: object) => (void|Promise<void>)} o.onMessage every message after `hello`
   * @param {(info: {code: number, byUs: boolean}) => void} o.onClose the socket closed
   * @param {(err: Error, msg: object) => void} o.onHandlerError a handler threw
   * @param {(dir: string, msg: object) => void} [o.onTrace] for the test hook
   */
  constructor({ url = signalingUrl(), onMessage, onClose, onHandlerError, onTrace = () => {} }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onClose = onClose;
    this.onHandlerError = onHandlerError;
    this.onTrace = onTrace;
  }

  /** Opens the socket; resolves with the server's `hello`. */
  connect(timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      let greeted = false;
      const ws = new WebSocket(this.url);
      this.#ws = ws;
      const timer = setTimeout(() => {
        if (!greeted) {
          reject(new Error('The server did not answer in time.'));
          this.close();
        }
      }, timeoutMs);

      ws.addEventListener('message', (event) => {
        let msg;
        try {
          msg = JSON.parse(event.data);
        } catch {
          console.warn('haven: ignoring a frame that is not JSON');
          return;
        }
        if (!msg || typeof msg.type !== 'string') return;
        this.onTrace('in', msg);
        if (!greeted) {
          if (msg.type === 'hello') {
            greeted = true;
            clearTimeout(timer);
            resolve(msg);
          } else {
            console.warn('haven: message before hello', msg.type);
          }
          return;
        }
        this.#enqueue(() => this.onMessage(msg), msg);
      });

      ws.addEventListener('close', (event) => {
        clearTimeout(timer);
        if (!greeted) {
          reject(new Error('The connection closed before the server said hello.'));
          return;
        }
        // Queued behind pending messages, so a `closed` message is handled before this.
        const byUs = this.#closing;
        this.#enqueue(() => this.onClose({ code: event.code, byUs }), { type: 'socket_close' });
      });
    });
  }

  #enqueue(fn, msg) {
    this.#chain = this.#chain.then(fn).catch((err) => this.onHandlerError(err, msg));
  }

  /** Sends one message; false when the socket is not open. */
  send(msg) {
    if (!this.#ws || this.#ws.readyState !== WebSocket.OPEN) return false;
    this.onTrace('out', msg);
    this.#ws.send(JSON.stringify(msg));
    return true;
  }

  get open() {
    return !!this.#ws && this.#ws.readyState === WebSocket.OPEN;
  }

  /** Closes the socket; already-buffered messages (such as `leave`) still go out first. */
  close() {
    this.#closing = true;
    if (this.#ws && this.#ws.readyState <= WebSocket.OPEN) this.#ws.close(1000);
  }
}
