// A UDP relay in front of the server's media port, so a test can take a browser's media path
// away (every packet dropped, both ways) and give it back from a new address, the way a
// Wi-Fi drop or a move to another network does. The signaling socket is not affected.

import dgram from 'node:dgram';

/** @param {number} targetPort the server's UDP media port on 127.0.0.1 */
export async function startUdpRelay(targetPort) {
  const front = dgram.createSocket('udp4');
  /** One upstream socket (one address, as the server sees it) per browser address. */
  const flows = new Map();
  let down = false;
  let forwarded = 0;

  front.on('error', () => {});
  front.on('message', (packet, from) => {
    if (down) return;
    const key = `${from.address}:${from.port}`;
    let upstream = flows.get(key);
    if (!upstream) {
      upstream = dgram.createSocket('udp4');
      upstream.on('error', () => {});
      upstream.on('message', (reply) => {
        if (!down && flows.get(key) === upstream) front.send(reply, from.port, from.address);
      });
      flows.set(key, upstream);
    }
    forwarded += 1;
    upstream.send(packet, targetPort, '127.0.0.1');
  });
  await new Promise((resolve) => front.bind(0, '127.0.0.1', resolve));

  const closeFlows = () => {
    for (const s of flows.values()) s.close();
    flows.clear();
  };
  return {
    port: front.address().port,
    get forwarded() {
      return forwarded;
    },
    /** Drops every packet from now on. */
    cut() {
      down = true;
    },
    /** Lets packets through again, from new upstream addresses: the old path is gone. */
    restore() {
      closeFlows();
      down = false;
    },
    close() {
      closeFlows();
      front.close();
    },
  };
}

/**
 * Runs in the page before its scripts: sends its media to `relayPort` instead of the server's
 * UDP port, and drops the server's TCP candidates so the page cannot route around a cut.
 */
export function mediaThroughRelay(serverPort, relayPort) {
  const original = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (description) {
    if (description?.sdp) {
      const sdp = description.sdp
        .split('\r\n')
        .filter((line) => !(line.startsWith('a=candidate:') && / tcp /i.test(line)))
        .map((line) =>
          line.startsWith('a=candidate:') ? line.replace(` 127.0.0.1 ${serverPort} `, ` 127.0.0.1 ${relayPort} `) : line,
        )
        .join('\r\n');
      description = { type: description.type, sdp };
    }
    return original.call(this, description);
  };
}
