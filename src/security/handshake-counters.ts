/** mTLS handshakes one transport made, for metrics and status. */
export interface HandshakeCounters {
  /** Connections whose handshake completed and whose peer passed the identity check. */
  completed: number;
  /** Connections refused: handshake errors, a peer with the wrong SPIFFE ID, or no usable identity of our own. */
  failed: number;
}
