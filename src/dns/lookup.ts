import type { RejectedEntry } from '../discovery/shared-watch.js';
import type { promises as dnsPromises, RecordWithTtl, SrvRecord } from 'node:dns';
import { toEndpoint, type Endpoint } from '../core/endpoint.js';
import { invalidConfig } from '../core/errors.js';
import type { DnsSettings } from './options.js';
import { srvEndpointWeights } from './srv-weights.js';

type DnsResolver = dnsPromises.Resolver;

/** One record left out of an answer, and why. */
export type RejectedRecord = RejectedEntry;

/** A usable DNS answer: the endpoints, the entries left out, and the smallest TTL seen (seconds). */
export interface DnsAnswer {
  readonly endpoints: readonly Endpoint[];
  readonly rejected: readonly RejectedRecord[];
  /** Smallest TTL of the address records used; undefined when there were none (an empty set). */
  readonly ttlSeconds: number | undefined;
}

/**
 * NXDOMAIN (`ENOTFOUND`) and NOERROR without records (`ENODATA`) are the
 * server's authoritative word that the name has no such records: an empty
 * answer, not a failure. Everything else (SERVFAIL, REFUSED, timeouts,
 * connection errors) is a failure.
 */
export function isNoRecords(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

async function orEmpty<T>(query: Promise<T[]>): Promise<T[]> {
  try {
    return await query;
  } catch (error) {
    if (isNoRecords(error)) return [];
    throw error;
  }
}

/** A and/or AAAA records of `host` with their TTLs; empty when the server says there are none. */
async function addresses(resolver: DnsResolver, host: string, v4: boolean, v6: boolean): Promise<RecordWithTtl[]> {
  const [four, six] = await Promise.all([
    v4 ? orEmpty(resolver.resolve4(host, { ttl: true })) : [],
    v6 ? orEmpty(resolver.resolve6(host, { ttl: true })) : [],
  ]);
  return [...four, ...six];
}

function minTtl(current: number | undefined, records: readonly RecordWithTtl[]): number | undefined {
  let min = current;
  for (const record of records) if (min === undefined || record.ttl < min) min = record.ttl;
  return min;
}

/** Plain A/AAAA: every address on the configured port. */
async function resolveHost(resolver: DnsResolver, settings: DnsSettings): Promise<DnsAnswer> {
  const { name, type } = settings;
  const records = await addresses(resolver, name, type !== 'aaaa', type !== 'a');
  const endpoints: Endpoint[] = [];
  const rejected: RejectedRecord[] = [];
  const seen = new Set<string>();
  records.forEach((record, index) => {
    try {
      const endpoint = toEndpoint({ host: record.address, port: settings.port as number, metadata: { dnsName: name } }, `dns(${name})[${index}]`);
      if (!seen.has(endpoint.id)) endpoints.push(endpoint);
      seen.add(endpoint.id);
    } catch (error) {
      rejected.push({ entry: record, error: error as Error });
    }
  });
  return { endpoints, rejected, ttlSeconds: minTtl(undefined, records) };
}

/** Validates one SRV record before its target is looked up: port 1-65535, a host name as target. */
function checkSrv(record: SrvRecord, option: string): void {
  toEndpoint({ host: record.name, port: record.port }, option);
}

/** Target `.` (RFC 2782): "the service is decidedly not available at this domain". Not an instance, and not an invalid one. */
function notOffered(record: SrvRecord): boolean {
  return record.name === '' || record.name === '.';
}

/**
 * SRV: priority groups in ascending order; the first group with at least one
 * target that resolves wins. Records with target `.` are left out silently:
 * an answer of only those is an empty set. Each address of a target becomes
 * an endpoint; a record's weight is split over its addresses (see
 * {@link srvEndpointWeights}).
 */
async function resolveSrv(resolver: DnsResolver, settings: DnsSettings): Promise<DnsAnswer> {
  const { name } = settings;
  // Plain copies: they are what rejection events carry (Node 22+ adds a `type` field; keep one shape).
  const records = (await orEmpty(resolver.resolveSrv(name)))
    .map(({ name: target, port, priority, weight }): SrvRecord => ({ name: target, port, priority, weight }))
    .filter((record) => !notOffered(record));
  const priorities = [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b);
  const rejected: RejectedRecord[] = [];
  for (const priority of priorities) {
    const group = records.filter((r) => r.priority === priority);
    const usable: SrvRecord[] = [];
    for (const record of group) {
      try {
        checkSrv(record, `dns(${name}).srv(${record.name}:${record.port})`);
        usable.push(record);
      } catch (error) {
        rejected.push({ entry: record, error: error as Error });
      }
    }
    // Targets are looked up together; a failed lookup (not "no records") fails the whole answer, so the last good set stays.
    const resolved = await Promise.all(usable.map((record) => addresses(resolver, record.name, true, true)));
    const weights = srvEndpointWeights(usable.map((record, i) => ({ weight: record.weight, addresses: resolved[i]?.length ?? 0 })));
    const endpoints: Endpoint[] = [];
    const seen = new Set<string>();
    let ttlSeconds: number | undefined;
    usable.forEach((record, i) => {
      const found = resolved[i] ?? [];
      const option = `dns(${name}).srv(${record.name}:${record.port})`;
      if (found.length === 0) {
        rejected.push({ entry: record, error: invalidConfig(`${option}.target`, 'a target with A or AAAA records', record.name) });
        return;
      }
      ttlSeconds = minTtl(ttlSeconds, found);
      for (const address of found) {
        try {
          const endpoint = toEndpoint({
            host: address.address, port: record.port, weight: weights[i] as number,
            metadata: { target: record.name, priority: String(record.priority), srvWeight: String(record.weight) },
          }, option);
          if (seen.has(endpoint.id)) throw invalidConfig(option, 'an address and port not listed by another SRV record', endpoint.id);
          seen.add(endpoint.id);
          endpoints.push(endpoint);
        } catch (error) {
          rejected.push({ entry: record, error: error as Error });
        }
      }
    });
    if (endpoints.length > 0) return { endpoints, rejected, ttlSeconds };
  }
  return { endpoints: [], rejected, ttlSeconds: undefined };
}

/** One resolution of the configured name. Rejects on failures (never on "no records"). */
export function lookup(resolver: DnsResolver, settings: DnsSettings): Promise<DnsAnswer> {
  return settings.type === 'srv' ? resolveSrv(resolver, settings) : resolveHost(resolver, settings);
}
