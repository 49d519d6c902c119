import type { SecureContextOptions, Server as TlsServer, TlsOptions } from 'node:tls';
import type { Identity, IdentityMaterial } from './identity.js';
import { readIdentity } from './server-options.js';

/** TLS options of a server that requires a client certificate from the identity's roots. */
export type IdentityServerTlsOptions = Pick<TlsOptions, 'cert' | 'key' | 'ca' | 'requestCert' | 'rejectUnauthorized' | 'minVersion'>;

function contextOptions(material: IdentityMaterial): SecureContextOptions {
  return { cert: material.cert, key: material.key, ca: [...material.ca], minVersion: 'TLSv1.2' };
}

/**
 * Waits for the identity's first material and returns `https.createServer`
 * (or Fastify `https`) options that present its leaf and require a client
 * certificate chaining to its roots (`requestCert`, `rejectUnauthorized`):
 * a client without one, or with one from elsewhere, fails the handshake.
 * TLS 1.2 at least. Anything but an Identity is `ERR_INVALID_CONFIG` naming `identity`.
 */
export async function identityServerOptions(identity: Identity): Promise<IdentityServerTlsOptions> {
  const material = await (readIdentity(identity, 'identity') as Identity).ready();
  return { ...contextOptions(material), requestCert: true, rejectUnauthorized: true };
}

/**
 * Keeps a TLS server on the identity's current material: each rotation or
 * renewal replaces the server's secure context, which new handshakes use;
 * connections open keep theirs. Returns the function that stops following.
 */
export function followIdentity(server: TlsServer, identity: Identity): () => void {
  let applied = identity.current()?.version ?? 0;
  const apply = (material: IdentityMaterial): void => {
    if (material.version === applied) return;
    applied = material.version;
    server.setSecureContext(contextOptions(material));
  };
  const current = identity.current();
  if (current !== undefined) server.setSecureContext(contextOptions(current));
  return identity.subscribe((event) => {
    if (event.type === 'updated') apply(event.material);
  });
}
