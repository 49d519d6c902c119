/**
 * DNS discovery for meshkit: SRV records, or A/AAAA records on a fixed port,
 * re-resolved as their TTLs run out.
 * @packageDocumentation
 */
import type { Resolver } from '../discovery/resolver.js';
import { filterResolver } from '../discovery/endpoint-filter.js';
import { sharedResolver } from '../discovery/shared-watch.js';
import { parseDnsOptions, type DnsOptions, type DnsSettings } from './options.js';
import { DnsWatch } from './watch.js';
import { clockId } from '../discovery/clock-id.js';

export type { DnsFamily, DnsOptions, DnsRecordType } from './options.js';
export { ZERO_WEIGHT_SHARE } from './srv-weights.js';

function watchKey(settings: DnsSettings): string {
  // The filter runs per subscriber, so clients with different filters share one loop.
  const { clock, endpointFilter: _filter, ...rest } = settings;
  return `dns:${JSON.stringify({ ...rest, name: rest.name.toLowerCase(), clock: clockId(clock) })}`;
}

/**
 * A {@link Resolver} over DNS. Clients with equal options share one resolve
 * loop (through the process-wide discovery cache).
 *
 * - `type: 'srv'` (default): `name` is an SRV name; the lowest-numbered
 *   priority group with at least one target that resolves to A/AAAA (or the
 *   one `family` names) is used; SRV weights become endpoint weights (weight
 *   0: see {@link ZERO_WEIGHT_SHARE}). One family's lookup failing while the
 *   other has records: those are used, and the failure is a rejected entry.
 * - `type: 'a' | 'aaaa' | 'a+aaaa'`: every address of `name`, on `port`.
 *
 * The name is resolved again after min(ttlCap, max(ttlFloor, smallest TTL));
 * `refresh()` (a client saw a connection refused) resolves early, at most once
 * per ttlFloor. NXDOMAIN, "no records" or only SRV target `.` is an empty
 * set; other failures keep the last good set, report an error, and retry
 * after `ttlFloor` plus full-jitter backoff. Invalid records (port 0, a target without
 * addresses, an unspecified address such as `0.0.0.0`) are rejected one by
 * one; an answer with no valid record keeps the last good set and reports a
 * `RejectedAnswerError`.
 * Throws `ERR_INVALID_CONFIG` naming the bad option.
 *
 * @example
 * client('orders').discovery(dns({ name: '_http._tcp.orders.example.test', servers: ['127.0.0.1:5353'] })).build();
 */
export function dns(options: DnsOptions): Resolver {
  const settings = parseDnsOptions(options);
  const shared = sharedResolver(new DnsWatch(settings, watchKey(settings)));
  return settings.endpointFilter === undefined ? shared : filterResolver(shared, settings.endpointFilter, 'dns.endpointFilter');
}
