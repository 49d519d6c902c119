import { systemClock, type Clock } from '../core/clock.js';
import { parseDuration, parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';

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
  /** etcd client URLs (`http://` or `https://`). Default `'http://127.0.0.1:2379'`. */
  readonly hosts?: string | readonly string[];
  /**
   * Key prefix under which the service's instances live, one JSON value per
   * key. Default `/meshkit/services/<service>/`.
   */
  readonly prefix?: string;
  /** TLS to etcd. Default none (plain gRPC); give it with `https://` hosts. */
  readonly credentials?: EtcdCredentials;
  /** User/password authentication. Default none. */
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
  /** Time, randomness and timers (tests use `VirtualClock`). Default the system clock. */
  readonly clock?: Clock;
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
  readonly clock: Clock;
}

const SERVICE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/;

/** The default key prefix of a service. */
export function defaultPrefix(service: string): string {
  return `/meshkit/services/${service}/`;
}

function checkHosts(value: unknown): readonly string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) throw invalidConfig('hosts', 'a URL or a non-empty array of URLs', value);
  return Object.freeze(list.map((host: unknown, index) => {
    if (typeof host !== 'string' || !/^https?:\/\/[^\s/]+\/?$/.test(host)) {
      throw invalidConfig(Array.isArray(value) ? `hosts[${index}]` : 'hosts', "an etcd URL such as 'http://127.0.0.1:2379'", host);
    }
    return host.replace(/\/$/, ''); // etcd3 turns the URL into a gRPC target: no trailing slash
  }));
}

function checkCredentials(value: unknown): EtcdCredentials | undefined {
  if (value === undefined) return undefined;
  const raw = value as Record<string, unknown> | null;
  if (raw === null || typeof raw !== 'object' || !Buffer.isBuffer(raw['rootCertificate'])
    || (raw['privateKey'] !== undefined && !Buffer.isBuffer(raw['privateKey']))
    || (raw['certChain'] !== undefined && !Buffer.isBuffer(raw['certChain']))) {
    throw invalidConfig('credentials', '{ rootCertificate: Buffer, privateKey?: Buffer, certChain?: Buffer }', value);
  }
  return value as EtcdCredentials;
}

function checkAuth(value: unknown): EtcdAuth | undefined {
  if (value === undefined) return undefined;
  const raw = value as Record<string, unknown> | null;
  if (raw === null || typeof raw !== 'object' || typeof raw['username'] !== 'string' || raw['username'] === ''
    || typeof raw['password'] !== 'string') {
    throw invalidConfig('auth', '{ username: non-empty string, password: string }', value === null ? null : '{ ... }');
  }
  return Object.freeze({ username: raw['username'], password: raw['password'] as string });
}

/** Validates `etcd(...)` options at creation; throws `ERR_INVALID_CONFIG` naming the option. */
export function resolveEtcdOptions(options: EtcdOptions): EtcdSettings {
  if (options === null || typeof options !== 'object') throw invalidConfig('options', '{ service, hosts?, prefix?, ... }', options);
  const service: unknown = options.service;
  if (typeof service !== 'string' || !SERVICE.test(service)) {
    throw invalidConfig('service', 'a service name of letters, digits, ".", "_", ":" or "-"', service);
  }
  const prefix: unknown = options.prefix ?? defaultPrefix(service);
  if (typeof prefix !== 'string' || prefix === '' || /\s/.test(prefix)) {
    throw invalidConfig('prefix', "a non-empty key prefix without spaces, such as '/services/orders/'", prefix);
  }
  const backoff: unknown = options.backoff ?? {};
  if (backoff === null || typeof backoff !== 'object') throw invalidConfig('backoff', '{ base?, cap? }', backoff);
  const backoffBaseMs = parsePositiveDuration((backoff as EtcdBackoffOptions).base ?? 200, 'backoff.base');
  const backoffCapMs = parsePositiveDuration((backoff as EtcdBackoffOptions).cap ?? 10_000, 'backoff.cap');
  if (backoffCapMs < backoffBaseMs) throw invalidConfig('backoff.cap', `a duration >= backoff.base (${backoffBaseMs} ms)`, (backoff as EtcdBackoffOptions).cap);
  const leaseTtlMs = parseDuration(options.leaseTtl ?? 10_000, 'leaseTtl');
  if (leaseTtlMs < 1000) throw invalidConfig('leaseTtl', 'a duration of at least 1s', options.leaseTtl);
  const clock: unknown = options.clock ?? systemClock;
  const ok = typeof clock === 'object' && clock !== null
    && ['now', 'random', 'setTimeout', 'clearTimeout'].every((m) => typeof (clock as Record<string, unknown>)[m] === 'function');
  if (!ok) throw invalidConfig('clock', 'a clock with now, random, setTimeout and clearTimeout', clock);
  return Object.freeze({
    service,
    hosts: checkHosts(options.hosts ?? 'http://127.0.0.1:2379'),
    prefix,
    defaultPrefix: options.prefix === undefined,
    credentials: checkCredentials(options.credentials),
    auth: checkAuth(options.auth),
    requestTimeoutMs: parsePositiveDuration(options.requestTimeout ?? 5000, 'requestTimeout'),
    backoffBaseMs,
    backoffCapMs,
    leaseTtlSeconds: Math.ceil(leaseTtlMs / 1000),
    clock: clock as Clock,
  });
}
