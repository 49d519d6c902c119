import type { Clock } from '../core/clock.js';
import { parseDuration, parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readString } from '../core/options.js';
import { readEndpointFilter, type EndpointFilter } from '../discovery/endpoint-filter.js';
import { readClock } from '../discovery/read-clock.js';
import { checkSecretOptions } from '../discovery/secret-options.js';
import { addressUrl, envFile, envString, readEnvironment, type Environment } from '../discovery/env-options.js';

/** TLS material for the gRPC connection to etcd (PEM buffers, passed to grpc-js `createSsl`). */
export interface EtcdCredentials {
  /** CA certificate(s) that sign the etcd server's certificate. Required for TLS. */
  readonly rootCertificate: Buffer;
  /** Client key, for etcd's `--client-cert-auth`. Default none. */
  readonly privateKey?: Buffer;
  /** Client certificate chain, with `privateKey`. Default none. */
  readonly certChain?: Buffer;
}

/** etcd's user/password authentication (etcd3 exchanges it for a token). */
export interface EtcdAuth {
  /** etcd user name. Required. */
  readonly username: string;
  /** The user's password. Required. */
  readonly password: string;
}

/** Full-jitter backoff between re-sync attempts while etcd fails. */
export interface EtcdBackoffOptions {
  /** Ceiling of the first delay. Default `'200ms'`. */
  readonly base?: Duration;
  /** Largest delay. Default `'10s'`. */
  readonly cap?: Duration;
}

/** Options of `etcd(...)`. */
export interface EtcdOptions {
  /** The service to resolve (and the default for registration). Required; names the source `etcd:<service>`. */
  readonly service: string;
  /**
   * etcd client URLs (`http://` or `https://`) or `host:port`s (over
   * HTTPS when `credentials` are set, as etcdctl does). With `credentials`
   * (from the option or the variables) every host is dialled over TLS, so an
   * `http://` URL is `ERR_INVALID_CONFIG`. Default
   * `ETCDCTL_ENDPOINTS` (comma-separated, same formats), else
   * `127.0.0.1:2379` (`http://`, or `https://` with `credentials`).
   */
  readonly hosts?: string | readonly string[];
  /**
   * Key prefix under which the service's instances live, one JSON value per
   * key; registration writes `<prefix><instance id>`. Must end in `/`, so
   * that one service's prefix never matches another's keys (`/svc/orders`
   * would also match `/svc/orders-canary/...`). Default `/meshkit/services/<service>/`.
   */
  readonly prefix?: string;
  /**
   * TLS to etcd. Default from etcdctl's variables `ETCDCTL_CACERT`,
   * `ETCDCTL_CERT` and `ETCDCTL_KEY` (file paths; the CA is required with
   * them), else none (plain gRPC); give it with `https://` hosts.
   */
  readonly credentials?: EtcdCredentials;
  /**
   * User/password authentication. Default from `ETCDCTL_USER`
   * (`name:password`, or `name` with `ETCDCTL_PASSWORD`), else none.
   */
  readonly auth?: EtcdAuth;
  /** Deadline of each unary etcd call (range, put, lease grant, keep-alive, revoke). Default `'5s'`. */
  readonly requestTimeout?: Duration;
  /** Backoff between re-sync attempts while etcd is unreachable. Default base `'200ms'`, cap `'10s'`. */
  readonly backoff?: EtcdBackoffOptions;
  /**
   * TTL of the lease a registration is written under: a crashed instance
   * disappears this long after its last keep-alive. Rounded up to whole
   * seconds, at least 1 s. Default `'10s'`. A `{ ttl }` check passed to
   * `register()` overrides it.
   */
  readonly leaseTtl?: Duration;
  /**
   * Only instances this predicate allows are used, for example
   * `allowCidrs(['10.20.0.0/16'])`; the others are rejected entries
   * (`discoveryRejected`), and a set with none allowed keeps the last good
   * set. Runs per client, so clients with different filters share one
   * watch. Default none (every valid instance).
   */
  readonly endpointFilter?: EndpointFilter;
  /** Time, randomness and timers (tests use `VirtualClock`). Default the system clock. */
  readonly clock?: Clock;
  /**
   * Where the `ETCDCTL_*` variables are read, once, when the provider is
   * created; `{}` ignores them. Options always win over variables (each
   * of hosts, credentials and auth as a whole); a malformed variable is
   * `ERR_INVALID_CONFIG` naming it. Default `process.env`.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** @internal Validated, defaulted options (durations in ms, the lease TTL in whole seconds). */
export interface EtcdSettings {
  readonly service: string;
  readonly hosts: readonly string[];
  readonly prefix: string;
  /** True when `prefix` was not given: registration derives it from the instance's service. */
  readonly defaultPrefix: boolean;
  readonly credentials: EtcdCredentials | undefined;
  readonly auth: EtcdAuth | undefined;
  readonly requestTimeoutMs: number;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  readonly leaseTtlSeconds: number;
  readonly endpointFilter: EndpointFilter | undefined;
  readonly clock: Clock;
}

const SERVICE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/;

/** The default key prefix of a service. */
export function defaultPrefix(service: string): string {
  return `/meshkit/services/${service}/`;
}

const KNOWN = ['service', 'hosts', 'prefix', 'credentials', 'auth', 'requestTimeout', 'backoff', 'leaseTtl', 'endpointFilter', 'clock', 'env'];

function checkHosts(value: unknown, option: string, scheme: 'http' | 'https'): readonly string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) throw invalidConfig(option, 'a URL or a non-empty array of URLs', value);
  return Object.freeze(list.map((host: unknown, index) => {
    const url = typeof host === 'string' ? addressUrl(host.trim(), scheme) : undefined;
    const name = Array.isArray(value) ? `${option}[${index}]` : option;
    if (url === undefined || !/^https?:\/\/[^\s/]+\/?$/.test(url)) {
      throw invalidConfig(name, "an etcd URL such as 'http://127.0.0.1:2379', or host:port", host);
    }
    // etcd3 dials every host with the one set of credentials, whatever the URL says: an http:// host would silently get TLS.
    if (scheme === 'https' && url.startsWith('http://')) {
      throw invalidConfig(name, 'an https:// URL or host:port (TLS credentials are set, and every etcd host is dialled over TLS)', host);
    }
    return url.replace(/\/$/, ''); // etcd3 turns the URL into a gRPC target: no trailing slash
  }));
}

/** etcdctl's TLS variables; undefined when none is set. */
function credentialsFromEnv(env: Environment): EtcdCredentials | undefined {
  const rootCertificate = envFile(env, 'ETCDCTL_CACERT');
  const certChain = envFile(env, 'ETCDCTL_CERT');
  const privateKey = envFile(env, 'ETCDCTL_KEY');
  if ((certChain === undefined) !== (privateKey === undefined)) {
    throw invalidConfig(certChain === undefined ? 'ETCDCTL_CERT' : 'ETCDCTL_KEY', 'set together with its pair (a client certificate needs both)', undefined);
  }
  if (rootCertificate === undefined) {
    if (certChain !== undefined) throw invalidConfig('ETCDCTL_CACERT', 'the CA file that signed the etcd server, set with ETCDCTL_CERT and ETCDCTL_KEY', undefined);
    return undefined;
  }
  return Object.freeze({ rootCertificate, ...(certChain === undefined ? {} : { certChain, privateKey }) }) as EtcdCredentials;
}

/** etcdctl's `--user` variables; undefined when unset. */
function authFromEnv(env: Environment): EtcdAuth | undefined {
  const user = envString(env, 'ETCDCTL_USER');
  if (user === undefined) return undefined;
  const colon = user.indexOf(':');
  const username = colon < 0 ? user : user.slice(0, colon);
  const password = colon < 0 ? env['ETCDCTL_PASSWORD'] : user.slice(colon + 1);
  // Neither value is shown: the user variable may hold the password.
  if (username === '') throw invalidConfig('ETCDCTL_USER', "'name:password', or 'name' with ETCDCTL_PASSWORD", '<hidden>');
  if (password === undefined) throw invalidConfig('ETCDCTL_PASSWORD', `the password of ETCDCTL_USER's user (it names no password)`, undefined);
  return Object.freeze({ username, password });
}

function checkCredentials(value: unknown): EtcdCredentials | undefined {
  if (value === undefined) return undefined;
  const raw = checkSecretOptions(value, 'etcd.credentials', ['rootCertificate', 'privateKey', 'certChain']);
  for (const name of ['rootCertificate', 'privateKey', 'certChain'] as const) {
    const material = raw[name];
    if ((name === 'rootCertificate' || material !== undefined) && !Buffer.isBuffer(material)) {
      throw invalidConfig(`etcd.credentials.${name}`, 'PEM bytes in a Buffer', material === undefined ? undefined : `<${typeof material}>`);
    }
  }
  if ((raw['privateKey'] === undefined) !== (raw['certChain'] === undefined)) {
    const missing = raw['privateKey'] === undefined ? 'privateKey' : 'certChain';
    throw invalidConfig(`etcd.credentials.${missing}`, 'privateKey and certChain given together (a client certificate needs both)', undefined);
  }
  return Object.freeze({ ...(raw as unknown as EtcdCredentials) });
}

function checkAuth(value: unknown): EtcdAuth | undefined {
  if (value === undefined) return undefined;
  const raw = checkSecretOptions(value, 'etcd.auth', ['username', 'password']);
  const username = readString(raw['username'], 'etcd.auth.username');
  if (username === undefined) throw invalidConfig('etcd.auth.username', 'a non-empty string', undefined);
  // The password is never shown, not even when it is of the wrong type.
  if (typeof raw['password'] !== 'string') throw invalidConfig('etcd.auth.password', 'a string', `<${typeof raw['password']}>`);
  return Object.freeze({ username, password: raw['password'] });
}

function checkBackoff(value: unknown): { baseMs: number; capMs: number } {
  const backoff = checkOptions(value === undefined ? {} : value, 'etcd.backoff', ['base', 'cap']);
  const baseMs = parsePositiveDuration(backoff['base'] ?? 200, 'etcd.backoff.base');
  const capMs = parsePositiveDuration(backoff['cap'] ?? 10_000, 'etcd.backoff.cap');
  if (capMs < baseMs) throw invalidConfig('etcd.backoff.cap', `a duration >= backoff.base (${baseMs} ms)`, backoff['cap']);
  return { baseMs, capMs };
}

/**
 * Validates `etcd(...)` options at creation; throws `ERR_INVALID_CONFIG`
 * naming the option (`etcd.hosts[1]`, `etcd.backoff.cap`; an unknown key
 * with the nearest known one). Secrets are never shown in the error.
 */
export function resolveEtcdOptions(options: EtcdOptions): EtcdSettings {
  const raw = checkSecretOptions(options, 'etcd', KNOWN);
  const service: unknown = raw['service'];
  if (typeof service !== 'string' || !SERVICE.test(service)) {
    throw invalidConfig('etcd.service', 'a service name of letters, digits, ".", "_", ":" or "-"', service);
  }
  const prefix: unknown = raw['prefix'] ?? defaultPrefix(service);
  // Without the final '/', '/services/orders' would also match '/services/orders-canary/...': another service's instances.
  if (typeof prefix !== 'string' || /\s/.test(prefix) || !prefix.endsWith('/') || !/[^/]/.test(prefix)) {
    throw invalidConfig('etcd.prefix', "a key prefix ending in '/' (and not only '/'), without spaces, such as '/services/orders/'", prefix);
  }
  const { baseMs: backoffBaseMs, capMs: backoffCapMs } = checkBackoff(raw['backoff']);
  const leaseTtlMs = parseDuration(raw['leaseTtl'] ?? 10_000, 'etcd.leaseTtl');
  const env = readEnvironment(raw['env'], 'etcd.env');
  const credentials = raw['credentials'] === undefined ? credentialsFromEnv(env) : checkCredentials(raw['credentials']);
  const endpoints = raw['hosts'] === undefined ? envString(env, 'ETCDCTL_ENDPOINTS')?.split(',') : undefined;
  if (leaseTtlMs < 1000) throw invalidConfig('etcd.leaseTtl', 'a duration of at least 1s', raw['leaseTtl']);
  return Object.freeze({
    service,
    hosts: checkHosts(raw['hosts'] ?? endpoints ?? '127.0.0.1:2379', endpoints === undefined ? 'etcd.hosts' : 'ETCDCTL_ENDPOINTS',
      credentials === undefined ? 'http' : 'https'),
    prefix,
    defaultPrefix: raw['prefix'] === undefined,
    credentials,
    auth: raw['auth'] === undefined ? authFromEnv(env) : checkAuth(raw['auth']),
    requestTimeoutMs: parsePositiveDuration(raw['requestTimeout'] ?? 5000, 'etcd.requestTimeout'),
    backoffBaseMs,
    backoffCapMs,
    leaseTtlSeconds: Math.ceil(leaseTtlMs / 1000),
    endpointFilter: readEndpointFilter(raw['endpointFilter'], 'etcd.endpointFilter'),
    clock: readClock(raw['clock'], 'etcd.clock'),
  });
}
