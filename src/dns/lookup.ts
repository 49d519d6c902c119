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

/** The address records of one name, and the family whose lookup failed when the other's records were used alone. */
interface Addresses {
  readonly records: RecordWithTtl[];
  readonly failed?: { readonly type: 'A' | 'AAAA'; readonly error: unknown };
}

/**
 * A and/or AAAA records of `host` with their TTLs; empty when the server says
 * there are none. When both families are asked and one lookup fails (a
 * resolver that drops or refuses AAAA), the other's records are used if it
 * has any; otherwise (or when both fail) this rejects, so the last good set stays.
 */
async function addresses(resolver: DnsResolver, host: string, v4: boolean, v6: boolean): Promise<Addresses> {
  const [four, six] = await Promise.allSettled([
    v4 ? orEmpty(resolver.resolve4(host, { ttl: true })) : [],
    v6 ? orEmpty(resolver.resolve6(host, { ttl: true })) : [],
  ]);
  if (four.status === 'fulfilled' && six.status === 'fulfilled') return { records: [...four.value, ...six.value] };
  if (four.status === 'rejected' && six.status === 'fulfilled' && six.value.length > 0) {
    return { records: six.value, failed: { type: 'A', error: four.reason } };
  }
  if (six.status === 'rejected' && four.status === 'fulfilled' && four.value.length > 0) {
    return { records: four.value, failed: { type: 'AAAA', error: six.reason } };
  }
  throw four.status === 'rejected' ? four.reason : (six as PromiseRejectedResult).reason;
}

/** The rejected entry that reports a family left out of an answer because its lookup failed. */
function familyFailure(entry: unknown, failed: NonNullable<Addresses['failed']>, option: string): RejectedRecord {
  const code = (failed.error as { code?: unknown } | null)?.code;
  const other = failed.type === 'A' ? 'AAAA' : 'A';
  const family = failed.type === 'A' ? 6 : 4;
  return {
    entry,
    error: invalidConfig(`${option}.${failed.type}`,
      `an answer to the ${failed.type} query (its ${other} records are used without it; family: ${family} stops asking)`,
      typeof code === 'string' ? code : String(failed.error), { cause: failed.error }),
  };
}

function minTtl(current: number | undefined, records: readonly RecordWithTtl[]): number | undefined {
  let min = current;
  for (const record of records) if (min === undefined || record.ttl < min) min = record.ttl;
  return min;
}

/** Plain A/AAAA: every address on the configured port. */
async function resolveHost(resolver: DnsResolver, settings: DnsSettings): Promise<DnsAnswer> {
  const { name, type } = settings;
  const { records, failed } = await addresses(resolver, name, type !== 'aaaa', type !== 'a');
  const endpoints: Endpoint[] = [];
  const rejected: RejectedRecord[] = failed === undefined ? [] : [familyFailure({ name, type }, failed, `dns(${name})`)];
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

/** What a target must have, per `family`. */
const FAMILY_RECORDS = { 4: 'A', 6: 'AAAA', both: 'A or AAAA' } as const;

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
 * an endpoint (A records, AAAA records or both, per `family`); a record's
 * weight is split over its addresses (see {@link srvEndpointWeights}).
 */
async function resolveSrv(resolver: DnsResolver, settings: DnsSettings): Promise<DnsAnswer> {
  const { name, family } = settings;
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
    const found = await Promise.all(usable.map((record) => addresses(resolver, record.name, family !== 6, family !== 4)));
    const resolved = found.map((result) => result.records);
    const weights = srvEndpointWeights(usable.map((record, i) => ({ weight: record.weight, addresses: resolved[i]?.length ?? 0 })));
    found.forEach(({ failed }, i) => {
      const record = usable[i] as SrvRecord;
      if (failed !== undefined) rejected.push(familyFailure(record, failed, `dns(${name}).srv(${record.name}:${record.port})`));
    });
    const endpoints: Endpoint[] = [];
    const seen = new Set<string>();
    let ttlSeconds: number | undefined;
    usable.forEach((record, i) => {
      const addressesOf = resolved[i] ?? [];
      const option = `dns(${name}).srv(${record.name}:${record.port})`;
      if (addressesOf.length === 0) {
        rejected.push({ entry: record, error: invalidConfig(`${option}.target`, `a target with ${FAMILY_RECORDS[family]} records`, record.name) });
        return;
      }
      ttlSeconds = minTtl(ttlSeconds, addressesOf);
      for (const address of addressesOf) {
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
