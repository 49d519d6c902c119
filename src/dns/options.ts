import { isIP } from 'node:net';
import type { Clock } from '../core/clock.js';
import { parseDuration, parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readChoice, readNumber } from '../core/options.js';
import { readEndpointFilter, type EndpointFilter } from '../discovery/endpoint-filter.js';
import { readClock } from '../discovery/read-clock.js';

/**
 * What to look up: `'srv'` (SRV records, each target resolved to A and AAAA),
 * `'a'`, `'aaaa'`, or `'a+aaaa'` (both families) on a fixed `port`.
 */
export type DnsRecordType = 'srv' | 'a' | 'aaaa' | 'a+aaaa';

/** Address families of SRV targets: `4` (A records), `6` (AAAA records) or `'both'`. */
export type DnsFamily = 4 | 6 | 'both';

/** Options of {@link dns}. Durations are ms or strings such as `'500ms'`. */
export interface DnsOptions {
  /** The name to resolve: `_http._tcp.orders.example.test` for SRV, `orders.example.test` for A/AAAA. Required. */
  readonly name: string;
  /** Record type. Default `'srv'`. */
  readonly type?: DnsRecordType;
  /** Port of every address for A/AAAA lookups (required there); not allowed with `'srv'` (the records carry ports). */
  readonly port?: number;
  /**
   * With `'srv'`, which address records of each target to look up: `4` (A
   * only), `6` (AAAA only) or `'both'`. With `'both'`, a target whose one
   * family fails to resolve while the other has records is used with those
   * (the failure is reported once as a rejected entry); `4` spares a resolver
   * that never answers AAAA the query. Not allowed with the other types
   * (the type names the family). Default `'both'`.
   */
  readonly family?: DnsFamily;
  /**
   * DNS servers to ask, `'ip'` or `'ip:port'` (`'[::1]:5353'` for IPv6).
   * Default: the system's resolvers (`/etc/resolv.conf`).
   */
  readonly servers?: readonly string[];
  /** Shortest wait before re-resolving, whatever the record TTL says; also the refresh() rate limit. Default `'1s'`. */
  readonly ttlFloor?: Duration;
  /** Longest wait before re-resolving, whatever the record TTL says. Default `'30s'`. */
  readonly ttlCap?: Duration;
  /**
   * How long the first try of a DNS query waits for an answer before it is
   * sent again or fails (c-ares timeout; later tries may wait longer). Rounded
   * up to whole milliseconds (c-ares counts in ms): `'1.5ms'` waits 2 ms.
   * Default `'2s'`.
   */
  readonly timeout?: Duration;
  /** Sends per query before it fails (c-ares tries). Default 2. */
  readonly tries?: number;
  /**
   * Re-resolve backoff after failures: `ttlFloor` plus full jitter between 0
   * and min(cap, base * 2^(n-1)), so loops that fail together spread out from
   * the first retry. Default `{ base: '1s', cap: '30s' }`.
   */
  readonly errorBackoff?: { readonly base?: Duration; readonly cap?: Duration };
  /**
   * Only addresses this predicate allows are used, for example
   * `allowCidrs(['10.20.0.0/16'])`; the others are rejected entries
   * (`discoveryRejected`), and an answer with none allowed keeps the last
   * good set. Runs per client, so clients with different filters share one
   * resolve loop. Default none (every valid address).
   */
  readonly endpointFilter?: EndpointFilter;
  /** Time and randomness (a VirtualClock in tests). Default the system clock. */
  readonly clock?: Clock;
}

/** Validated {@link DnsOptions}, durations in ms. */
export interface DnsSettings {
  readonly name: string;
  readonly type: DnsRecordType;
  readonly port: number | undefined;
  /** Families of SRV targets to look up; `'both'` for the other types (their type picks the family). */
  readonly family: DnsFamily;
  readonly servers: readonly string[] | undefined;
  readonly ttlFloorMs: number;
  readonly ttlCapMs: number;
  /** Whole milliseconds (rounded up), as the resolver takes them. */
  readonly timeoutMs: number;
  readonly tries: number;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  readonly endpointFilter: EndpointFilter | undefined;
  readonly clock: Clock;
}

const TYPES: readonly DnsRecordType[] = ['srv', 'a', 'aaaa', 'a+aaaa'];
// Letters, digits, '-', '_' (SRV labels), dot-separated, an optional final dot.
const NAME = /^(?=.{1,253}\.?$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/;

function checkServer(server: unknown, option: string): string {
  const expected = "an IP address with an optional port ('127.0.0.1:5353', '[::1]:5353')";
  if (typeof server !== 'string') throw invalidConfig(option, expected, server);
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  const withPort = bracketed === null ? /^([^:]+):(\d+)$/.exec(server) : null;
  const host = bracketed?.[1] ?? withPort?.[1] ?? server;
  const port = bracketed?.[2] ?? withPort?.[2];
  if (isIP(host) === 0) throw invalidConfig(option, expected, server);
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw invalidConfig(option, expected, server);
  return server;
}

const KNOWN = ['name', 'type', 'port', 'family', 'servers', 'ttlFloor', 'ttlCap', 'timeout', 'tries', 'errorBackoff', 'endpointFilter', 'clock'];

/**
 * Validates {@link DnsOptions}; throws `ERR_INVALID_CONFIG` naming the option
 * (`dns.ttlFloor`, ...; an unknown key with the nearest known one).
 */
export function parseDnsOptions(options: DnsOptions): DnsSettings {
  const raw = checkOptions(options, 'dns', KNOWN);
  const name = raw['name'];
  if (typeof name !== 'string' || !NAME.test(name)) throw invalidConfig('dns.name', 'a DNS name such as _http._tcp.orders.example.test', name);
  const type = readChoice(raw['type'], 'dns.type', TYPES, 'srv');
  const port = raw['port'];
  if (type === 'srv' && port !== undefined) throw invalidConfig('dns.port', 'no port with type srv (SRV records carry their ports)', port);
  if (type !== 'srv') {
    if (port === undefined) throw invalidConfig('dns.port', `an integer port from 1 to 65535 (required with type ${type})`, port);
    readNumber(port, 'dns.port', undefined, { min: 1, max: 65535, integer: true });
  }
  const family = raw['family'] ?? 'both';
  if (type !== 'srv' && raw['family'] !== undefined) {
    throw invalidConfig('dns.family', `no family with type ${type} (the type names the records to look up)`, raw['family']);
  }
  if (family !== 4 && family !== 6 && family !== 'both') throw invalidConfig('dns.family', "4, 6 or 'both'", family);
  const servers = raw['servers'];
  if (servers !== undefined && (!Array.isArray(servers) || servers.length === 0)) {
    throw invalidConfig('dns.servers', 'a non-empty array of server addresses', servers);
  }
  (servers as unknown[] | undefined)?.forEach((server, index) => checkServer(server, `dns.servers[${index}]`));
  const ttlFloorMs = parsePositiveDuration(raw['ttlFloor'] ?? '1s', 'dns.ttlFloor');
  const ttlCapMs = parsePositiveDuration(raw['ttlCap'] ?? '30s', 'dns.ttlCap');
  if (ttlCapMs < ttlFloorMs) throw invalidConfig('dns.ttlCap', `a duration >= ttlFloor (${ttlFloorMs} ms)`, raw['ttlCap']);
  // c-ares takes whole milliseconds (Node throws a RangeError on a fraction): round up, so '1.5ms' waits 2 ms, '500us' 1 ms.
  const timeoutMs = Math.ceil(parsePositiveDuration(raw['timeout'] ?? '2s', 'dns.timeout'));
  const tries = readNumber(raw['tries'], 'dns.tries', 2, { min: 1, max: 10, integer: true });
  const errorBackoff = checkOptions(raw['errorBackoff'] === undefined ? {} : raw['errorBackoff'], 'dns.errorBackoff', ['base', 'cap']);
  const backoffBaseMs = parsePositiveDuration(errorBackoff['base'] ?? '1s', 'dns.errorBackoff.base');
  const backoffCapMs = parseDuration(errorBackoff['cap'] ?? '30s', 'dns.errorBackoff.cap');
  if (backoffCapMs < backoffBaseMs) throw invalidConfig('dns.errorBackoff.cap', `a duration >= errorBackoff.base (${backoffBaseMs} ms)`, errorBackoff['cap']);
  return Object.freeze({
    name: name.endsWith('.') ? name.slice(0, -1) : name,
    type,
    port: type === 'srv' ? undefined : (port as number),
    family,
    servers: servers === undefined ? undefined : Object.freeze([...(servers as string[])]),
    ttlFloorMs, ttlCapMs, timeoutMs, tries, backoffBaseMs, backoffCapMs,
    endpointFilter: readEndpointFilter(raw['endpointFilter'], 'dns.endpointFilter'),
    clock: readClock(raw['clock'], 'dns.clock'),
  });
}
