import type { Clock } from '../core/clock.js';
import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject, readBoolean, readString, readTlsOptions } from '../core/options.js';
import { clockId } from '../discovery/clock-id.js';
import { readEndpointFilter, type EndpointFilter } from '../discovery/endpoint-filter.js';
import { fingerprint } from '../discovery/fingerprint.js';
import { readClock } from '../discovery/read-clock.js';
import { checkSecretOptions } from '../discovery/secret-options.js';
import { addressUrl, envBoolean, envFile, envString, readEnvironment, type Environment } from '../discovery/env-options.js';

/** TLS settings for talking to the Consul agent over `https://`. */
export interface ConsulTlsOptions {
  /** CA certificate(s) that signed the agent's certificate (PEM). Default Node's bundled CAs. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Client certificate (PEM), when the agent verifies clients (`verify_incoming`). Default none. */
  readonly cert?: string | Buffer;
  /** Client private key (PEM) for `cert`. Default none. */
  readonly key?: string | Buffer;
  /** Server name to verify the agent's certificate against. Default the host of `address`. */
  readonly servername?: string;
  /** Verify the agent's certificate. Default true; turn off only in tests. */
  readonly rejectUnauthorized?: boolean;
}

/**
 * Re-poll backoff after errors: full jitter between 0 and
 * min(cap, base * 2^(n-1)), added to the earliest time `minInterval` allows
 * (so watches that fail together spread out from the first re-poll).
 */
export interface ConsulBackoffOptions {
  /** Ceiling of the first re-poll delay after an error. Default `'500ms'`. */
  readonly base?: Duration;
  /** Largest delay between re-polls while Consul keeps failing. Default `'15s'`. */
  readonly cap?: Duration;
}

/** Options of {@link consul}. */
export interface ConsulOptions {
  /** Service name to watch in Consul. Required. */
  readonly service: string;
  /**
   * The Consul agent's HTTP API: a base URL (`http://` or `https://`) or
   * `host:port` (plain HTTP). Default `CONSUL_HTTP_ADDR` (a URL, or
   * `host:port` over HTTPS when `CONSUL_HTTP_SSL=true`), else
   * `'http://127.0.0.1:8500'`.
   */
  readonly address?: string;
  /** Only instances whose health checks all pass (`?passing`). Default true. */
  readonly passingOnly?: boolean;
  /** Only instances that carry every one of these tags. Default none (no tag filter). */
  readonly tags?: readonly string[];
  /** Only instances on nodes whose metadata has all these key/value pairs (`node-meta`). Default none. */
  readonly nodeMeta?: Readonly<Record<string, string>>;
  /** Datacenter to query (`dc`). Default the agent's own datacenter. */
  readonly datacenter?: string;
  /**
   * ACL token, sent as `X-Consul-Token`. Default `CONSUL_HTTP_TOKEN`, else the
   * contents of the file `CONSUL_HTTP_TOKEN_FILE` names, else none (the
   * agent's default token).
   */
  readonly token?: string;
  /**
   * TLS to the agent; only with an `https://` address. Default, for an
   * `https://` address, from the consul CLI's variables: `CONSUL_CACERT`,
   * `CONSUL_CLIENT_CERT` and `CONSUL_CLIENT_KEY` (file paths),
   * `CONSUL_TLS_SERVER_NAME`, and `CONSUL_HTTP_SSL_VERIFY=false`; else none.
   * Given here, it replaces all of them.
   */
  readonly tls?: ConsulTlsOptions;
  /** How long one blocking query may wait for a change (Consul adds up to wait/16). At most 10 minutes. Default `'30s'`. */
  readonly wait?: Duration;
  /**
   * Least time between the starts of two polls of one watch. Consul's index
   * moves for unrelated changes, so without a floor a watch could poll in a
   * tight loop. It is also the worst extra delay before a change is seen, so
   * keep it well under the 1 s propagation goal. Default `'250ms'`.
   */
  readonly minInterval?: Duration;
  /** Re-poll backoff after errors. Default `{ base: '500ms', cap: '15s' }`. */
  readonly backoff?: ConsulBackoffOptions;
  /**
   * Only instances this predicate allows are used, for example
   * `allowCidrs(['10.20.0.0/16'])`; the others are rejected entries
   * (`discoveryRejected`), and an answer with none allowed keeps the last
   * good set. Runs per client, so clients with different filters share one
   * watch. Default none (every valid instance).
   */
  readonly endpointFilter?: EndpointFilter;
  /** Time and randomness (tests pass a VirtualClock). Default the system clock. */
  readonly clock?: Clock;
  /**
   * Consul Connect: discovery lists only Connect-capable instances
   * (`/v1/health/connect/<service>`: Connect-native ones, and sidecar proxies
   * at the proxy's address and port), to be called over mutual TLS
   * (`.identity()`); `register()` registers the instance as Connect-native.
   * Default false.
   */
  readonly connect?: boolean;
  /**
   * Deadline of each request `register()` makes to the agent (register,
   * keep-alive, re-check, deregister); a request past it is aborted and
   * retried at the next keep-alive. Default `'5s'`.
   */
  readonly requestTimeout?: Duration;
  /**
   * Where the `CONSUL_*` variables are read, once, when the provider is
   * created; `{}` ignores them. Options always win over variables; a
   * malformed variable is `ERR_INVALID_CONFIG` naming it. Default `process.env`.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Validated options with every default applied. */
export interface ResolvedConsulOptions {
  readonly service: string;
  readonly url: URL;
  readonly passingOnly: boolean;
  readonly tags: readonly string[];
  readonly nodeMeta: Readonly<Record<string, string>>;
  readonly datacenter: string | undefined;
  readonly token: string | undefined;
  readonly tls: ConsulTlsOptions | undefined;
  readonly waitMs: number;
  readonly minIntervalMs: number;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  readonly endpointFilter: EndpointFilter | undefined;
  readonly clock: Clock;
  readonly connect: boolean;
  readonly requestTimeoutMs: number;
  /** Identity of the watch: equal options give equal keys (the token and TLS material only as a SHA-256 fingerprint). */
  readonly key: string;
}

const MAX_WAIT_MS = 10 * 60_000;
const KNOWN = [
  'service', 'address', 'passingOnly', 'tags', 'nodeMeta', 'datacenter', 'token', 'tls', 'wait', 'minInterval', 'backoff',
  'endpointFilter', 'clock', 'connect', 'env', 'requestTimeout',
];
const TLS_KNOWN = ['ca', 'cert', 'key', 'servername', 'rejectUnauthorized'];

function parseAddress(value: unknown, env: Environment): URL {
  const fromEnv = value === undefined ? envString(env, 'CONSUL_HTTP_ADDR') : undefined;
  const option = fromEnv === undefined ? 'consul.address' : 'CONSUL_HTTP_ADDR';
  const given = value ?? fromEnv;
  // Like the consul CLI: CONSUL_HTTP_SSL=true makes a host:port from the environment an https:// address.
  const scheme = fromEnv !== undefined && envBoolean(env, 'CONSUL_HTTP_SSL') === true ? 'https' : 'http';
  const text = given === undefined ? 'http://127.0.0.1:8500' : typeof given === 'string' ? addressUrl(given, scheme) : undefined;
  let url: URL | undefined;
  try {
    url = text === undefined ? undefined : new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === ''
    || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw invalidConfig(option, "an http:// or https:// base URL such as 'http://127.0.0.1:8500', or host:port", given);
  }
  return url;
}

/** The consul CLI's TLS variables, for an https:// address without a `tls` option; undefined when none is set. */
function tlsFromEnv(env: Environment): ConsulTlsOptions | undefined {
  const found: Record<string, unknown> = {};
  const ca = envFile(env, 'CONSUL_CACERT');
  const cert = envFile(env, 'CONSUL_CLIENT_CERT');
  const key = envFile(env, 'CONSUL_CLIENT_KEY');
  const servername = envString(env, 'CONSUL_TLS_SERVER_NAME');
  const verify = envBoolean(env, 'CONSUL_HTTP_SSL_VERIFY');
  if ((cert === undefined) !== (key === undefined)) {
    throw invalidConfig(cert === undefined ? 'CONSUL_CLIENT_CERT' : 'CONSUL_CLIENT_KEY', 'set together with its pair (a client certificate needs both)', undefined);
  }
  if (ca !== undefined) found['ca'] = ca;
  if (cert !== undefined) found['cert'] = cert;
  if (key !== undefined) found['key'] = key;
  if (servername !== undefined) found['servername'] = servername;
  if (verify === false) found['rejectUnauthorized'] = false;
  return Object.keys(found).length === 0 ? undefined : readTlsOptions(found, 'consul.tls') as ConsulTlsOptions;
}

/** The ACL token: the option, else CONSUL_HTTP_TOKEN, else the file CONSUL_HTTP_TOKEN_FILE names. */
function tokenFromEnv(env: Environment): string | undefined {
  const token = env['CONSUL_HTTP_TOKEN'];
  if (token !== undefined && token !== '') return token;
  const file = envFile(env, 'CONSUL_HTTP_TOKEN_FILE')?.toString('utf8').trim();
  if (file === '') throw invalidConfig('CONSUL_HTTP_TOKEN_FILE', 'a file holding a token', '<empty file>');
  return file;
}

function parseTags(value: unknown): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value) || !value.every((tag) => typeof tag === 'string' && tag !== '')) {
    throw invalidConfig('consul.tags', 'an array of non-empty strings', value);
  }
  return Object.freeze([...new Set(value as string[])].sort());
}

function parseNodeMeta(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return Object.freeze({});
  if (!isOptionsObject(value)) throw invalidConfig('consul.nodeMeta', 'an object of string values', value);
  for (const [key, entry] of Object.entries(value)) {
    if (key === '' || key.includes(':') || typeof entry !== 'string') {
      throw invalidConfig(`consul.nodeMeta.${key}`, 'a string value under a non-empty key without ":"', entry);
    }
  }
  return Object.freeze({ ...(value as Record<string, string>) });
}

function parseTls(value: unknown, url: URL, env: Environment): ConsulTlsOptions | undefined {
  if (value === undefined) return url.protocol === 'https:' ? tlsFromEnv(env) : undefined;
  checkSecretOptions(value, 'consul.tls', TLS_KNOWN);
  if (url.protocol !== 'https:') throw invalidConfig('consul.tls', "an https:// address to go with it (address is 'http://')", '{ ... }');
  return readTlsOptions(value, 'consul.tls') as ConsulTlsOptions;
}

function parseBackoff(value: unknown): { baseMs: number; capMs: number } {
  const backoff = checkOptions(value === undefined ? {} : value, 'consul.backoff', ['base', 'cap']);
  const baseMs = parsePositiveDuration(backoff['base'] ?? '500ms', 'consul.backoff.base');
  const capMs = parsePositiveDuration(backoff['cap'] ?? '15s', 'consul.backoff.cap');
  if (capMs < baseMs) throw invalidConfig('consul.backoff.cap', `a duration >= backoff.base (${baseMs} ms)`, backoff['cap']);
  return { baseMs, capMs };
}

/**
 * Validates {@link ConsulOptions}; throws `ERR_INVALID_CONFIG` naming the
 * first bad option (`consul.tls.key`, `consul.backoff.cap`; an unknown key
 * with the nearest known one). Values of unknown keys are not shown: one
 * may be a mistyped token.
 */
export function resolveConsulOptions(options: ConsulOptions): ResolvedConsulOptions {
  const raw = checkSecretOptions(options, 'consul', KNOWN);
  const service = readString(raw['service'], 'consul.service');
  if (service === undefined || /[/?#\s]/.test(service)) {
    throw invalidConfig('consul.service', 'a service name without "/", "?", "#" or spaces', raw['service']);
  }
  const env = readEnvironment(raw['env'], 'consul.env');
  const url = parseAddress(raw['address'], env);
  const passingOnly = readBoolean(raw['passingOnly'], 'consul.passingOnly', true);
  const tags = parseTags(raw['tags']);
  const nodeMeta = parseNodeMeta(raw['nodeMeta']);
  const datacenter = readString(raw['datacenter'], 'consul.datacenter');
  const token = raw['token'] ?? tokenFromEnv(env);
  // The value is not shown: a wrong one may still be (part of) a secret.
  if (token !== undefined && (typeof token !== 'string' || token === '')) throw invalidConfig('consul.token', 'a non-empty string', `<${typeof token}>`);
  const tls = parseTls(raw['tls'], url, env);
  const waitMs = parsePositiveDuration(raw['wait'] ?? '30s', 'consul.wait');
  if (waitMs > MAX_WAIT_MS) throw invalidConfig('consul.wait', 'a duration of at most 10m (Consul caps blocking queries there)', raw['wait']);
  const minIntervalMs = parsePositiveDuration(raw['minInterval'] ?? '250ms', 'consul.minInterval');
  const { baseMs: backoffBaseMs, capMs: backoffCapMs } = parseBackoff(raw['backoff']);
  const endpointFilter = readEndpointFilter(raw['endpointFilter'], 'consul.endpointFilter');
  const clock = readClock(raw['clock'], 'consul.clock');
  const connect = readBoolean(raw['connect'], 'consul.connect', false);
  // Registration only (the watch is bounded by `wait`), so not part of the key.
  const requestTimeoutMs = parsePositiveDuration(raw['requestTimeout'] ?? '5s', 'consul.requestTimeout');
  // The filter runs per subscriber, so it is not part of the key: clients with different filters share the watch.
  // JSON keeps every field apart: tags ['a,b'] and ['a', 'b'] (or a '|' in a name) must not share a watch.
  const key = JSON.stringify([
    'consul', url.origin, datacenter ?? null, service, passingOnly, tags,
    Object.entries(nodeMeta).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    token === undefined && tls === undefined ? null : `credentials#${fingerprint({ token, tls })}`,
    waitMs, minIntervalMs, backoffBaseMs, backoffCapMs, `clock#${clockId(clock)}`,
    // Another endpoint (/v1/health/connect) and another answer: another watch.
    connect,
  ]);
  return Object.freeze({
    service, url, passingOnly, tags, nodeMeta, datacenter, token: token as string | undefined, tls,
    waitMs, minIntervalMs, backoffBaseMs, backoffCapMs, endpointFilter, clock, connect, requestTimeoutMs, key,
  });
}
