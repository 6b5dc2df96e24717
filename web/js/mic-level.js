// How loud the person's own microphone is, measured in the page: an AnalyserNode on the
// local track, read ten times a second while the page is visible. Nothing is sent or kept.
// It knows nothing of the meeting; meeting/mic.js decides what the readings mean.

const INTERVAL_MS = 100;
/** Two seconds without a running audio context: no meter here. */
const IDLE_READS = 20;
/** dBFS shown as an empty meter and as a full one. */
const FLOOR_DB = -60;
const CEILING_DB = -12;
/** Louder than this (RMS, dBFS) is taken as a voice: quiet rooms with noise suppression sit well under it. */
export const SPEECH_DB = -45;
/** Quieter than this peak is no sound at all: a disabled track or a mic muted on the device. */
const SILENT_PEAK = 1e-4;

/** A reading's RMS in dBFS turned into the meter's 0–1. */
export function meterLevel(db) {
  return Math.min(1, Math.max(0, (db - FLOOR_DB) / (CEILING_DB - FLOOR_DB)));
}

export class MicLevel {
  #onReading;
  /** @type {AudioContext|null} */
  #context = null;
  #source = null;
  #analyser = null;
  #buffer = null;
  #track = null;
  #timer = 0;
  /** Reads in a row without a running audio context. */
  #idle = 0;

  /**
   * @param {(reading: {level: number, speech: boolean, silent: boolean, db: number}|{unavailable: true}|null) => void} onReading
   *   null: not measuring; `unavailable`: this browser cannot measure here
   */
  constructor(onReading) {
    this.#onReading = onReading;
    // A hidden page has no one looking at a meter: stop reading until it is shown again.
    document.addEventListener('visibilitychange', () => this.#run());
  }

  /** The track being measured, or null. */
  get track() {
    return this.#track;
  }

  /** Measures `track` (a live audio track) from now on; null stops. */
  watch(track) {
    if (track === this.#track) return;
    this.#source?.disconnect();
    this.#source = null;
    this.#idle = 0;
    this.#track = track && track.readyState === 'live' ? track : null;
    if (this.#track) {
      try {
        this.#connect(this.#track);
      } catch (err) {
        // No Web Audio here: the page works without a meter.
        console.debug('haven: no microphone level', err?.name);
        this.#track = null;
      }
    }
    this.#run();
  }

  #connect(track) {
    const Context = window.AudioContext ?? window.webkitAudioContext;
    if (!Context) throw new DOMException('no AudioContext', 'NotSupportedError');
    if (!this.#context) {
      this.#context = new Context();
      this.#analyser = this.#context.createAnalyser();
      this.#analyser.fftSize = 2048;
      this.#buffer = new Float32Array(this.#analyser.fftSize);
    }
    // Never connected to the speakers: the person must not hear themselves.
    this.#source = this.#context.createMediaStreamSource(new MediaStream([track]));
    this.#source.connect(this.#analyser);
  }

  #run() {
    const on = !!this.#track && !document.hidden;
    if (on && !this.#timer) {
      this.#context?.resume().catch(() => {});
      this.#timer = setInterval(() => this.#read(), INTERVAL_MS);
    } else if (!on && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = 0;
      this.#context?.suspend().catch(() => {});
      this.#onReading(null);
    }
  }

  #read() {
    const track = this.#track;
    if (!track || track.readyState !== 'live') {
      this.watch(null);
      return;
    }
    // An audio context runs only with a sound output (headless Firefox without one never
    // starts it): no readings then, and the page says nothing rather than something wrong.
    if (this.#context.state !== 'running') {
      if (++this.#idle === IDLE_READS) this.#onReading({ unavailable: true });
      return;
    }
    this.#idle = 0;
    this.#analyser.getFloatTimeDomainData(this.#buffer);
    let sum = 0;
    let peak = 0;
    for (const x of this.#buffer) {
      sum += x * x;
      peak = Math.max(peak, Math.abs(x));
    }
    const rms = Math.sqrt(sum / this.#buffer.length);
    const db = rms > 0 ? 20 * Math.log10(rms) : -Infinity;
    const silent = peak < SILENT_PEAK || !track.enabled || track.muted;
    this.#onReading({ level: silent ? 0 : meterLevel(db), speech: !silent && db > SPEECH_DB, silent, db });
  }
}
