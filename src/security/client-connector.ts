import { X509Certificate } from 'node:crypto';
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

/** `ERR_PEER_IDENTITY` for a server whose certificate names another service (or none: no URI SAN, or several). */
export function peerIdentityMismatch(expected: string, presented: string | undefined): MeshkitError {
  return new MeshkitError('ERR_PEER_IDENTITY',
    `The server presented ${presented === undefined ? 'no SPIFFE ID (as its one URI SAN)' : `the SPIFFE ID ${presented}`} where ${expected} was expected`,
    { expected, presented, reason: 'mismatch' });
}

/**
 * No usable identity of our own: nothing to present, so no connection is
 * made (the client's doing, not the endpoint's: blame `local`).
 * `details.reason` is `'not-loaded'` (nothing loaded yet; the message adds
 * the source's last error), `'expired'` (past its not-after) or
 * `'not-yet-valid'` (before its not-before).
 */
export function noUsableIdentity(identity: Identity, material: IdentityMaterial | undefined): MeshkitError {
  const local = (reason: string, message: string): MeshkitError =>
    new MeshkitError('ERR_PEER_IDENTITY', message, { reason, expected: undefined, presented: undefined }, { blame: 'local' });
  if (material === undefined) {
    const lastError = statusOf(identity)?.lastError;
    return local('not-loaded', `No ${identity.kind} identity loaded yet: mutual TLS has no certificate to present${lastError === undefined ? '' : ` (last error: ${lastError})`}`);
  }
  const notBefore = notBeforeOf(material);
  if (notBefore !== undefined && notBefore.getTime() > wallClockNow(identity.clock ?? systemClock)) {
    return local('not-yet-valid', `The ${identity.kind} identity ${material.spiffeId.uri} is not valid before ${notBefore.toISOString()}: it is not presented before then`);
  }
  return local('expired', `The ${identity.kind} identity ${material.spiffeId.uri} expired at ${material.notAfter.toISOString()} and no renewed one arrived: it is never presented`);
}

/** The identity's status, or undefined when reading it fails (a source of your own): only used to explain an error. */
function statusOf(identity: Identity): ReturnType<Identity['status']> | undefined {
  try {
    return identity.status();
  } catch {
    return undefined;
  }
}

// Material from a source that leaves notBefore out: the leaf is parsed once per material.
const parsedNotBefore = new WeakMap<IdentityMaterial, Date | undefined>();

/** The leaf's not-before: the material's own, or read from its certificate (undefined when it does not parse). */
function notBeforeOf(material: IdentityMaterial): Date | undefined {
  if (material.notBefore !== undefined) return material.notBefore;
  if (!parsedNotBefore.has(material)) {
    let notBefore: Date | undefined;
    try {
      notBefore = new Date(new X509Certificate(material.cert).validFrom);
    } catch {
      notBefore = undefined;
    }
    parsedNotBefore.set(material, notBefore);
  }
  return parsedNotBefore.get(material);
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
 * within its leaf's validity, not before its not-before nor past its
 * not-after (wall-clock time, as certificates are: the wall time of the
 * identity's `clock`). Undefined otherwise: a leaf peers would refuse is
 * never presented.
 */
export function usableMaterial(identity: Identity): IdentityMaterial | undefined {
  const material = identity.current();
  if (material === undefined) return undefined;
  const wallNow = wallClockNow(identity.clock ?? systemClock);
  if (material.notAfter.getTime() <= wallNow) return undefined;
  const notBefore = notBeforeOf(material);
  return notBefore !== undefined && notBefore.getTime() > wallNow ? undefined : material;
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
