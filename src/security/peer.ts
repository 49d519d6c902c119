import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parseServiceSpiffeId, spiffeTrustDomain, spiffeUriOf } from './spiffe.js';

/** The caller of an inbound mTLS connection, as its verified certificate says. */
export interface Peer {
  /** The SPIFFE ID of the caller's certificate (its one URI SAN), as the certificate spells it. */
  readonly spiffeId: string;
  /**
   * The trust domain of the SPIFFE ID (`spiffe://<trust-domain>/...`),
   * lower-cased, whatever the ID's form (Consul's, SPIRE's): compare it to
   * admit callers by trust domain.
   */
  readonly trustDomain: string;
  /** The service name from a Consul-style SPIFFE ID; undefined when the ID is of another form. */
  readonly service: string | undefined;
  /** The certificate's serial number (hex). */
  readonly serialNumber: string;
}

const peers = new WeakMap<object, Peer | null>();

/**
 * The verified peer of a socket, read once per connection: undefined when
 * the socket is not TLS, the client presented no certificate, the chain did
 * not verify, or the certificate does not have exactly one URI SAN that is
 * a SPIFFE ID (`spiffe://<trust-domain>/...`) — the same rule the client
 * applies to servers.
 */
export function peerOf(socket: Socket): Peer | undefined {
  const known = peers.get(socket);
  if (known !== undefined) return known ?? undefined;
  const tls = socket as Partial<TLSSocket>;
  let peer: Peer | null = null;
  if (tls.encrypted === true && tls.authorized === true && typeof tls.getPeerCertificate === 'function') {
    const cert = tls.getPeerCertificate(false);
    const uri = spiffeUriOf(cert.subjectaltname);
    const trustDomain = uri === undefined ? undefined : spiffeTrustDomain(uri);
    if (uri !== undefined && trustDomain !== undefined) {
      peer = Object.freeze({ spiffeId: uri, trustDomain, service: parseServiceSpiffeId(uri)?.service, serialNumber: cert.serialNumber });
    }
  }
  peers.set(socket, peer);
  return peer ?? undefined;
}
