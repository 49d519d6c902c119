import type { PeerCertificate } from 'node:tls';
import { buildConnector } from 'undici';
import { systemClock, wallClockNow } from '../core/clock.js';
import { MeshkitError } from '../core/errors.js';
import type { TransportTlsOptions } from '../transports/connection.js';
import type { Identity, IdentityMaterial } from './identity.js';
import { parseServiceSpiffeId, serviceSpiffeId, spiffeUriOf } from './spiffe.js';
import type { HandshakeCounters } from './handshake-counters.js';

/** The TLS options an identity owns: a transport's own `tls` may not set them beside an identity. */
export const IDENTITY_TLS_KEYS: readonly string[] = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'checkServerIdentity', 'session'];

/** `ERR_PEER_IDENTITY` for a server whose certificate names another service (or none). */
export function peerIdentityMismatch(expected: string, presented: string | undefined): MeshkitError {
  return new MeshkitError('ERR_PEER_IDENTITY',
    `The server presented ${presented === undefined ? 'no SPIFFE ID' : `the SPIFFE ID ${presented}`} where ${expected} was expected`,
    { expected, presented, reason: 'mismatch' });
}

/** No usable identity of our own: nothing to present, so no connection is made (the client's doing, not the endpoint's). */
export function noUsableIdentity(identity: Identity, material: IdentityMaterial | undefined): MeshkitError {
  const reason = material === undefined ? 'not-loaded' : 'expired';
  const message = material === undefined
    ? `No ${identity.kind} identity loaded yet: mutual TLS has no certificate to present`
    : `The ${identity.kind} identity ${material.spiffeId.uri} expired at ${material.notAfter.toISOString()} and no renewed one arrived: it is never presented`;
  return new MeshkitError('ERR_PEER_IDENTITY', message, { reason, expected: undefined, presented: undefined }, { blame: 'local' });
}

/**
 * Checks the server's leaf after its chain verified against the roots: it
 * must carry exactly the SPIFFE ID of `peerService` in our own trust domain,
 * namespace and datacenter. Host names and IP SANs are not what identifies a
 * mesh peer, so they are not checked.
 */
function spiffeChecker(own: IdentityMaterial, peerService: string): (host: string, cert: PeerCertificate) => Error | undefined {
  const expected = serviceSpiffeId(own.spiffeId, peerService);
  return (_host, cert) => {
    const presented = spiffeUriOf(cert.subjectaltname);
    const parsed = presented === undefined ? undefined : parseServiceSpiffeId(presented);
    // Trust domains compare without case (they are host names); the path compares exactly.
    const same = parsed !== undefined && serviceSpiffeId(parsed, parsed.service) === expected;
    return same ? undefined : peerIdentityMismatch(expected, presented);
  };
}

/**
 * The identity's current material when it may be presented now: loaded and
 * not past its leaf's not-after (wall-clock time, as certificates are: the
 * wall time of the identity's `clock`).
 * Undefined otherwise: an expired leaf is never presented.
 */
export function usableMaterial(identity: Identity): IdentityMaterial | undefined {
  const material = identity.current();
  return material === undefined || material.notAfter.getTime() <= wallClockNow(identity.clock ?? systemClock) ? undefined : material;
}

/**
 * The TLS options of one connection made with `material`: present the leaf,
 * trust only the identity's roots, and require `peerService`'s SPIFFE ID.
 * For connections opened outside undici (the got adapter's node:https requests).
 */
export function identityTlsOptions(material: IdentityMaterial, peerService: string): {
  readonly ca: string[]; readonly cert: string; readonly key: string; readonly rejectUnauthorized: true;
  readonly checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
} {
  return {
    ca: [...material.ca],
    cert: material.cert,
    key: material.key,
    rejectUnauthorized: true,
    checkServerIdentity: spiffeChecker(material, peerService),
  };
}

/**
 * An undici connector that opens every new connection with the identity's
 * current material: it presents the leaf, trusts only the identity's roots
 * and requires the server's SPIFFE ID. A new connector is built per identity
 * version, so a rotation reaches new connections at once while open ones
 * finish what they carry. TLS session resumption is off: a resumed session
 * would skip the peer check.
 */
export function identityConnector(identity: Identity, peerService: string, connectTimeoutMs: number,
  extraTls: TransportTlsOptions | undefined, counters: HandshakeCounters): buildConnector.connector {
  let built: { version: number; connect: buildConnector.connector } | undefined;
  return (options, callback) => {
    const material = usableMaterial(identity);
    if (material === undefined) {
      counters.failed += 1;
      callback(noUsableIdentity(identity, identity.current()), null);
      return;
    }
    if (built?.version !== material.version) {
      built = {
        version: material.version,
        connect: buildConnector({
          ...extraTls,
          timeout: connectTimeoutMs,
          maxCachedSessions: 0,
          ...identityTlsOptions(material, peerService),
        }),
      };
    }
    built.connect(options, (error, socket) => {
      if (error === null) counters.completed += 1;
      else counters.failed += 1;
      callback(error as Error, socket as never);
    });
  };
}
