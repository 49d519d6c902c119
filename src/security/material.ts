import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { IdentityMaterial } from './identity.js';
import { leafFacts } from './spiffe.js';

/** PEM certificates in a bundle, one string each. */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/**
 * Checks a leaf, its key and roots before they are put in use, so that a
 * half-written file or a wrong answer never replaces good material: the leaf
 * must parse and carry one Consul-style SPIFFE service ID, the key must be
 * the leaf's, the leaf must be valid now (its not-before reached, its
 * not-after not; wall-clock time, no allowance for skew), and there must be
 * at least one root. `wallNow` is the identity source's wall-clock time in
 * epoch ms (`wallClockNow(clock)`). Throws an Error saying what is wrong
 * (the caller keeps the last good material and checks again later).
 */
export function checkMaterial(cert: string, key: string, ca: readonly string[], source: string, wallNow: number): Omit<IdentityMaterial, 'version'> {
  let facts;
  try {
    facts = leafFacts(cert);
  } catch (error) {
    throw new Error(`${source}: the leaf certificate is not valid PEM`, { cause: error });
  }
  // An expired leaf would be refused by every peer (and must never be presented): keep the last good one instead.
  if (facts.validTo.getTime() <= wallNow) {
    throw new Error(`${source}: the leaf certificate expired at ${facts.validTo.toISOString()}; it is never put in use`);
  }
  // Nor one not valid yet (issuer's clock ahead, early issue): peers would refuse it, and blame would fall on them.
  if (facts.validFrom.getTime() > wallNow) {
    throw new Error(`${source}: the leaf certificate is not valid before ${facts.validFrom.toISOString()} (now ${new Date(wallNow).toISOString()}); it is put in use once that time has come`);
  }
  if (facts.spiffeId === undefined) {
    throw new Error(`${source}: the leaf certificate carries no SPIFFE service ID (a URI SAN spiffe://<trust-domain>/ns/<ns>/dc/<dc>/svc/<service>)`);
  }
  try {
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) throw new Error('mismatch');
  } catch (error) {
    throw new Error(`${source}: the private key does not belong to the leaf certificate`, { cause: error });
  }
  const roots = ca.flatMap(splitPem);
  if (roots.length === 0) throw new Error(`${source}: no trust root (PEM certificate) given`);
  for (const root of roots) {
    try {
      new X509Certificate(root);
    } catch (error) {
      throw new Error(`${source}: a trust root is not valid PEM`, { cause: error });
    }
  }
  return { cert, key, ca: roots, spiffeId: facts.spiffeId, serialNumber: facts.serialNumber, notBefore: facts.validFrom, notAfter: facts.validTo };
}
