import type { ConnectionOptions } from 'node:tls';
import { invalidConfig } from '../core/errors.js';
import { readChoice, readTlsOptions } from '../core/options.js';
import { warnUnverifiedTls } from '../core/tls-warning.js';
import type { Identity } from '../security/identity.js';
import { redactTls } from './tls-secrets.js';

/** TLS options a transport passes to Node's `tls.connect` (validated by `readTlsOptions`). */
export type TransportTlsOptions = Readonly<Pick<ConnectionOptions,
  'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'servername' | 'rejectUnauthorized' | 'minVersion' | 'maxVersion'
  | 'ciphers' | 'ecdhCurve' | 'ALPNProtocols' | 'checkServerIdentity' | 'session'>>;

/**
 * How a transport reaches its endpoints: the scheme and the TLS settings.
 * Adapters and health checks that open their own connections (the got
 * adapter, active health checks) read it from `HttpTransportFactory.connection`
 * so they speak to endpoints exactly as the transport does.
 */
export interface HttpConnection {
  /** `http` or `https`. */
  readonly protocol: 'http' | 'https';
  /** The validated TLS options (only the keys that were set); undefined for `http` or when none were given. */
  readonly tls: TransportTlsOptions | undefined;
  /**
   * Mutual TLS with a service identity (the transport's `identity` and
   * `peerService`): whoever connects for the client presents the identity's
   * leaf, trusts only its roots and checks the peer's SPIFFE ID. Default none.
   */
  readonly identity?: ConnectionIdentity | undefined;
}

/** The identity a connection presents and the service whose SPIFFE ID the peer must carry. */
export interface ConnectionIdentity {
  readonly identity: Identity;
  readonly peerService: string;
}

/** Plain HTTP without TLS: what a transport that does not describe itself is taken to speak. */
export const PLAIN_HTTP: HttpConnection = Object.freeze({ protocol: 'http', tls: undefined });

/**
 * Validates a transport's `protocol` and `tls` options (errors name
 * `<option>.protocol` and `<option>.tls.<key>`): `tls` goes through
 * `readTlsOptions` and is only allowed with `https` (TLS options on plain
 * HTTP would be ignored, so a typo would send traffic in clear text).
 * `rejectUnauthorized: false` emits the `MESHKIT_TLS_UNVERIFIED` warning.
 * Errors never show `key`, `passphrase`, `pfx` or `session` (see tls-secrets.ts).
 */
export function resolveConnection(protocolValue: unknown, tlsValue: unknown, option: string): HttpConnection {
  const protocol = readChoice(protocolValue, `${option}.protocol`, ['http', 'https'] as const, 'http');
  const checked = readTlsOptions(tlsValue, `${option}.tls`);
  if (checked !== undefined && protocol !== 'https') {
    throw invalidConfig(`${option}.tls`, "no TLS options unless protocol is 'https'", redactTls(tlsValue));
  }
  if (checked === undefined) return protocol === 'http' ? PLAIN_HTTP : Object.freeze({ protocol, tls: undefined });
  // Only the keys that were set, so that spreading them never overwrites another layer's value with undefined.
  const tls = Object.freeze(Object.fromEntries(Object.entries(checked).filter(([, value]) => value !== undefined))) as TransportTlsOptions;
  if (tls.rejectUnauthorized === false) warnUnverifiedTls(`${option}.tls.rejectUnauthorized`);
  return Object.freeze({ protocol, tls });
}
