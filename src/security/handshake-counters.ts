/** mTLS handshakes made with one identity, by every client using it (for metrics and status). */
export interface HandshakeCounters {
  /** Connections whose handshake completed and whose peer passed the identity check. */
  completed: number;
  /** Connections refused: handshake errors, a peer with the wrong SPIFFE ID, or no usable identity of our own. */
  failed: number;
}

const byIdentity = new WeakMap<object, HandshakeCounters>();

/** The client-side handshake counters of `identity` (all clients using it add to the same ones). */
export function handshakesOf(identity: object): Readonly<HandshakeCounters> {
  let counters = byIdentity.get(identity);
  if (counters === undefined) {
    counters = { completed: 0, failed: 0 };
    byIdentity.set(identity, counters);
  }
  return counters;
}
