import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../core/clock.js';
import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { clockId } from '../discovery/clock-id.js';

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

/** Re-poll backoff after errors: full jitter between 0 and min(cap, base * 2^(n-1)). */
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
  /** Base URL of the Consul agent's HTTP API, `http://` or `https://`. Default `'http://127.0.0.1:8500'`. */
  readonly address?: string;
  /** Only instances whose health checks all pass (`?passing`). Default true. */
  readonly passingOnly?: boolean;
  /** Only instances that carry every one of these tags. Default none (no tag filter). */
  readonly tags?: readonly string[];
  /** Only instances on nodes whose metadata has all these key/value pairs (`node-meta`). Default none. */
  readonly nodeMeta?: Readonly<Record<string, string>>;
  /** Datacenter to query (`dc`). Default the agent's own datacenter. */
  readonly datacenter?: string;
  /** ACL token, sent as `X-Consul-Token`. Default none (the agent's default token). */
  readonly token?: string;
  /** TLS to the agent; only with an `https://` address. Default none. */
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
  /** Time and randomness (tests pass a VirtualClock). Default the system clock. */
  readonly clock?: Clock;
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
  readonly clock: Clock;
  /** Identity of the watch: equal options give equal keys (the token and TLS material only as a hash). */
  readonly key: string;
}

const MAX_WAIT_MS = 10 * 60_000;
const KNOWN = new Set(['service', 'address', 'passingOnly', 'tags', 'nodeMeta', 'datacenter', 'token', 'tls', 'wait', 'minInterval', 'backoff', 'clock']);

function nonEmptyString(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalidConfig(option, 'a non-empty string', value);
  return value;
}

function optionalString(value: unknown, option: string): string | undefined {
  return value === undefined ? undefined : nonEmptyString(value, option);
}

function parseAddress(value: unknown): URL {
  const text = value ?? 'http://127.0.0.1:8500';
  let url: URL | undefined;
  try {
    url = typeof text === 'string' ? new URL(text) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === ''
    || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw invalidConfig('address', "an http:// or https:// base URL such as 'http://127.0.0.1:8500'", value);
  }
  return url;
}

function parseTags(value: unknown): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value) || !value.every((tag) => typeof tag === 'string' && tag !== '')) {
    throw invalidConfig('tags', 'an array of non-empty strings', value);
  }
  return Object.freeze([...new Set(value as string[])].sort());
}

function parseNodeMeta(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return Object.freeze({});
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidConfig('nodeMeta', 'an object of string values', value);
  }
  for (const [key, entry] of Object.entries(value)) {
    if (key === '' || key.includes(':') || typeof entry !== 'string') {
      throw invalidConfig(`nodeMeta.${key}`, 'a string value under a non-empty key without ":"', entry);
    }
  }
  return Object.freeze({ ...(value as Record<string, string>) });
}

function parseTls(value: unknown, url: URL): ConsulTlsOptions | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidConfig('tls', 'an object { ca?, cert?, key?, servername?, rejectUnauthorized? }', value);
  }
  if (url.protocol !== 'https:') throw invalidConfig('tls', "an https:// address to go with it (address is 'http://')", value);
  const tls = value as Record<string, unknown>;
  const pem = (entry: unknown): boolean => typeof entry === 'string' || Buffer.isBuffer(entry);
  for (const name of ['cert', 'key'] as const) {
    if (tls[name] !== undefined && !pem(tls[name])) throw invalidConfig(`tls.${name}`, 'a PEM string or Buffer', tls[name]);
  }
  const ca = tls['ca'];
  if (ca !== undefined && !pem(ca) && !(Array.isArray(ca) && ca.every(pem))) {
    throw invalidConfig('tls.ca', 'a PEM string or Buffer, or an array of them', ca);
  }
  if ((tls['cert'] === undefined) !== (tls['key'] === undefined)) {
    throw invalidConfig(tls['cert'] === undefined ? 'tls.cert' : 'tls.key', 'cert and key given together', undefined);
  }
  optionalString(tls['servername'], 'tls.servername');
  if (tls['rejectUnauthorized'] !== undefined && typeof tls['rejectUnauthorized'] !== 'boolean') {
    throw invalidConfig('tls.rejectUnauthorized', 'a boolean', tls['rejectUnauthorized']);
  }
  return Object.freeze({ ...(tls as ConsulTlsOptions) });
}

function parseClock(value: unknown): Clock {
  if (value === undefined) return systemClock;
  const ok = typeof value === 'object' && value !== null
    && ['now', 'random', 'setTimeout', 'clearTimeout'].every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
  if (!ok) throw invalidConfig('clock', 'a clock with now, random, setTimeout and clearTimeout', value);
  return value as Clock;
}

/** Hash of secrets and binary material, so the key can be shown without leaking the token. */
function digest(value: unknown): string {
  // Buffers serialize as { type: 'Buffer', data: [...] }, so TLS material hashes by content.
  const json = JSON.stringify(value);
  return createHash('sha256').update(json ?? '').digest('hex').slice(0, 16);
}

/** Validates {@link ConsulOptions}; throws `ERR_INVALID_CONFIG` naming the first bad option. */
export function resolveConsulOptions(options: ConsulOptions): ResolvedConsulOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidConfig('options', "an object such as { service: 'orders' }", options);
  }
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) throw invalidConfig(name, `one of the known options (${[...KNOWN].join(', ')})`, name);
  }
  const service = nonEmptyString(options.service, 'service');
  if (/[/?#\s]/.test(service)) throw invalidConfig('service', 'a service name without "/", "?", "#" or spaces', service);
  const url = parseAddress(options.address);
  if (options.passingOnly !== undefined && typeof options.passingOnly !== 'boolean') {
    throw invalidConfig('passingOnly', 'a boolean', options.passingOnly);
  }
  const tags = parseTags(options.tags);
  const nodeMeta = parseNodeMeta(options.nodeMeta);
  const datacenter = optionalString(options.datacenter, 'datacenter');
  const token = optionalString(options.token, 'token');
  const tls = parseTls(options.tls, url);
  const waitMs = parsePositiveDuration(options.wait ?? '30s', 'wait');
  if (waitMs > MAX_WAIT_MS) throw invalidConfig('wait', 'a duration of at most 10m (Consul caps blocking queries there)', options.wait);
  const minIntervalMs = parsePositiveDuration(options.minInterval ?? '250ms', 'minInterval');
  const backoff = options.backoff ?? {};
  if (typeof backoff !== 'object' || backoff === null) throw invalidConfig('backoff', 'an object { base?, cap? }', backoff);
  const backoffBaseMs = parsePositiveDuration(backoff.base ?? '500ms', 'backoff.base');
  const backoffCapMs = parsePositiveDuration(backoff.cap ?? '15s', 'backoff.cap');
  if (backoffCapMs < backoffBaseMs) throw invalidConfig('backoff.cap', `a duration >= backoff.base (${backoffBaseMs} ms)`, backoff.cap);
  const clock = parseClock(options.clock);
  const passingOnly = options.passingOnly ?? true;
  const key = [
    'consul', url.origin, datacenter ?? '', service, passingOnly ? 'passing' : 'any', tags.join(','),
    Object.entries(nodeMeta).sort().map(([k, v]) => `${k}:${v}`).join(','),
    token === undefined ? '' : `token#${digest(token)}`, tls === undefined ? '' : `tls#${digest(tls)}`,
    waitMs, minIntervalMs, backoffBaseMs, backoffCapMs, `clock#${clockId(clock)}`,
  ].join('|');
  return Object.freeze({
    service, url, passingOnly, tags, nodeMeta, datacenter, token, tls,
    waitMs, minIntervalMs, backoffBaseMs, backoffCapMs, clock, key,
  });
}
