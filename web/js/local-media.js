// The local microphone and camera. Devices are opened only when the person switches them on,
// and fully stopped (the camera light goes out) when switched off.

import { t } from './i18n.js';

const CONSTRAINTS = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  // Modest by default: many members are on phones and poor connections.
  video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } },
};

export class LocalMedia {
  /** Holds the live local tracks, for previews. */
  stream = new MediaStream();
  /** @type {{audio: MediaStreamTrack|null, video: MediaStreamTrack|null}} */
  tracks = { audio: null, video: null };
  /** The device of each kind to open, then the one open ('' = the browser's default). */
  deviceIds = { audio: '', video: '' };

  /**
   * @param {(kind: string) => void} onEnded a device stopped by itself (unplugged, revoked)
   * @param {{audio?: string, video?: string}} deviceIds the devices to open ('' or none: the default)
   */
  constructor(onEnded = () => {}, deviceIds = {}) {
    this.onEnded = onEnded;
    this.deviceIds = { audio: deviceIds.audio ?? '', video: deviceIds.video ?? '' };
  }

  isOn(kind) {
    const track = this.tracks[kind];
    return !!track && track.readyState === 'live';
  }

  /** Opens the device of `kind` if it is not open; returns its track. Throws a DOMException. */
  async enable(kind) {
    if (this.isOn(kind)) return this.tracks[kind];
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new DOMException('This browser cannot use a microphone or camera here.', 'NotSupportedError');
    }
    let media;
    try {
      const wanted = this.deviceIds[kind] ? { ...CONSTRAINTS[kind], deviceId: { exact: this.deviceIds[kind] } } : CONSTRAINTS[kind];
      media = await navigator.mediaDevices.getUserMedia({ [kind]: wanted });
    } catch (err) {
      // The chosen device is gone (unplugged, or chosen in an earlier meeting): the default then.
      if (!this.deviceIds[kind] || !['NotFoundError', 'OverconstrainedError'].includes(err?.name)) throw err;
      this.deviceIds[kind] = '';
      media = await navigator.mediaDevices.getUserMedia({ [kind]: CONSTRAINTS[kind] });
    }
    const track = media.getTracks().find((t) => t.kind === kind);
    if (!track) throw new DOMException('No device was found.', 'NotFoundError');
    track.addEventListener('ended', () => {
      if (this.tracks[kind] === track) {
        this.disable(kind);
        this.onEnded(kind);
      }
    });
    this.attach(kind, track);
    return track;
  }

  /** Holds `track` (one opened by `enable`) as the open device of `kind`. */
  attach(kind, track) {
    this.tracks[kind] = track;
    this.stream.addTrack(track);
    const settings = track.getSettings?.() ?? {};
    if (settings.deviceId) this.deviceIds[kind] = settings.deviceId;
  }

  disable(kind) {
    this.detach(kind)?.stop();
  }

  /** Lets go of the track of `kind` without stopping it (the caller stops it); returns it. */
  detach(kind) {
    const track = this.tracks[kind];
    if (!track) return null;
    this.tracks[kind] = null;
    this.stream.removeTrack(track);
    return track;
  }

  stopAll() {
    this.disable('audio');
    this.disable('video');
  }
}

/** A plain sentence for a getUserMedia failure. */
export function mediaErrorText(kind, err) {
  const device = kind === 'audio' ? 'audio' : 'video';
  switch (err?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return t(`media.error.notAllowed.${device}`);
    case 'NotFoundError':
    case 'OverconstrainedError':
      return t(`media.error.notFound.${device}`);
    case 'NotReadableError':
    case 'AbortError':
      return t(`media.error.busy.${device}`);
    case 'NotSupportedError':
      return t(`media.error.notSupported.${device}`);
    default:
      return t(`media.error.failed.${device}`);
  }
}
