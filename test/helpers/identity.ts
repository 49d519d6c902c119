import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileIdentity, type Identity } from '../../src/index.js';
import { startHttpsUpstream, type CertificateAuthority, type HttpsUpstream, type TlsMaterial } from './tls.js';

/** The trust domain of test leaves (Consul's form: a UUID under `.consul`). */
export const TEST_TRUST_DOMAIN = '11111111-2222-3333-4444-555555555555.consul';

/** The Consul-style SPIFFE ID of `service` in the test trust domain. */
export const spiffeIdOf = (service: string): string => `spiffe://${TEST_TRUST_DOMAIN}/ns/default/dc/dc1/svc/${service}`;

/** A mesh leaf for `service` (server and client usage, its SPIFFE ID as URI SAN), valid until `notAfter` (default a day). */
export function meshLeaf(ca: CertificateAuthority, service: string, notAfter?: Date): TlsMaterial {
  return ca.issue({ commonName: service, altNames: [spiffeIdOf(service)], usage: 'both', ...(notAfter === undefined ? {} : { notAfter }) });
}

/** A fileIdentity of `service`'s leaf signed by `ca`, from PEM files (`files`) in a temporary directory removed on close. */
export async function testFileIdentity(ca: CertificateAuthority, service: string): Promise<{ identity: Identity; files: { cert: string; key: string; ca: string }; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshkit-identity-'));
  const material = meshLeaf(ca, service);
  const files = { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), ca: path.join(dir, 'ca.pem') };
  for (const [name, text] of [['cert', material.cert], ['key', material.key], ['ca', ca.cert]] as const) {
    writeFileSync(`${files[name]}.tmp`, text);
    renameSync(`${files[name]}.tmp`, files[name]);
  }
  const identity = fileIdentity({ ...files, interval: '200ms' });
  await identity.ready();
  return {
    identity,
    files,
    async close() {
      await identity.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A client identity (`web`) and two HTTPS servers that require a client
 * certificate from `ca`: `orders` holds its own leaf, `impostor` another
 * service's (`billing`) valid leaf. `close()` stops both and the identity.
 */
export interface MeshPair {
  readonly web: { identity: Identity; close(): Promise<void> };
  readonly orders: HttpsUpstream;
  readonly impostor: HttpsUpstream;
  close(): Promise<void>;
}

/** Starts a {@link MeshPair} on 127.0.0.1. */
export async function startMeshPair(ca: CertificateAuthority): Promise<MeshPair> {
  const web = await testFileIdentity(ca, 'web');
  const orders = await startHttpsUpstream({ server: meshLeaf(ca, 'orders'), clientCa: ca.cert });
  const impostor = await startHttpsUpstream({ server: meshLeaf(ca, 'billing'), clientCa: ca.cert });
  return {
    web, orders, impostor,
    close: async () => {
      await Promise.all([orders.close(), impostor.close()]);
      await web.close();
    },
  };
}
