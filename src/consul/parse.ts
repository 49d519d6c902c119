import type { RejectedEntry } from '../discovery/shared-watch.js';
import { toEndpoint, type Endpoint } from '../core/endpoint.js';
import { invalidConfig } from '../core/errors.js';

/** A `/v1/health/service/<name>` answer turned into endpoints. */
export interface ParsedHealth {
  readonly endpoints: readonly Endpoint[];
  readonly rejected: readonly RejectedEntry[];
}

/** The answer as a whole is unusable (not a JSON array): the watch keeps its last good set. */
export class ConsulAnswerError extends Error {
  override readonly name = 'ConsulAnswerError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Consul encodes "none" as null or omits the field; both mean the default. */
function orDefault<T>(value: unknown, fallback: T): unknown {
  return value === null || value === undefined ? fallback : value;
}

/** Whether any of an entry's checks is in `warning` (a malformed list counts as none: it is not what we weigh by). */
function hasWarning(checks: unknown): boolean {
  return Array.isArray(checks) && checks.some((check) => isRecord(check) && check['Status'] === 'warning');
}

/** The weight field that applies to an entry: `Warning` when one of its checks is in warning, else `Passing`. */
function weightField(entry: Record<string, unknown>): 'Warning' | 'Passing' {
  return hasWarning(entry['Checks']) ? 'Warning' : 'Passing';
}

/**
 * True when the weight that applies to the entry is exactly 0: Consul accepts
 * it (typically `Weights.Warning: 0`) as "send this instance nothing while
 * in this state". Such an entry is not for us, and not an invalid one either.
 */
function weighsNothing(entry: unknown): boolean {
  if (!isRecord(entry) || !isRecord(entry['Service'])) return false;
  const weights = entry['Service']['Weights'];
  return isRecord(weights) && weights[weightField(entry)] === 0;
}

/**
 * Turns one health entry into an endpoint. Host is `Service.Address`, or
 * `Node.Address` when the service registered none; weight is
 * `Service.Weights.Passing`, or `Service.Weights.Warning` when one of the
 * entry's checks is in `warning` (as Consul's own DNS weighs it; such entries
 * come only with `passingOnly: false`); zone is `Service.Meta.zone`; tags and metadata
 * are the service's. Throws `ERR_INVALID_CONFIG` naming the bad field.
 */
export function healthEntryToEndpoint(entry: unknown, option: string): Endpoint {
  if (!isRecord(entry)) throw invalidConfig(option, 'an object { Node, Service, Checks }', entry);
  const service = entry['Service'];
  if (!isRecord(service)) throw invalidConfig(`${option}.Service`, 'an object', service);
  const node = orDefault(entry['Node'], {});
  if (!isRecord(node)) throw invalidConfig(`${option}.Node`, 'an object', node);
  const serviceAddress = orDefault(service['Address'], '');
  if (typeof serviceAddress !== 'string') throw invalidConfig(`${option}.Service.Address`, 'a string', serviceAddress);
  const host = serviceAddress !== '' ? serviceAddress : orDefault(node['Address'], '');
  if (typeof host !== 'string' || host === '') {
    throw invalidConfig(`${option}.Service.Address`, 'a non-empty address (or Node.Address)', host);
  }
  const weights = orDefault(service['Weights'], {});
  if (!isRecord(weights)) throw invalidConfig(`${option}.Service.Weights`, 'an object { Passing, Warning }', weights);
  const meta = orDefault(service['Meta'], {});
  const zone = isRecord(meta) && typeof meta['zone'] === 'string' && meta['zone'] !== '' ? meta['zone'] : undefined;
  return toEndpoint({
    host,
    port: service['Port'] as number,
    weight: orDefault(weights[weightField(entry)], 1) as number,
    tags: orDefault(service['Tags'], []) as string[],
    metadata: meta as Record<string, string>,
    ...(zone === undefined ? {} : { zone }),
  }, `${option}.Service`);
}

/**
 * False when the entry's tags are a list without one of `required`: the entry
 * is not for us, valid or not. Malformed tags say nothing, so validation
 * decides (and rejects the entry).
 */
function carriesTags(entry: unknown, required: readonly string[]): boolean {
  if (required.length === 0 || !isRecord(entry) || !isRecord(entry['Service'])) return true;
  const tags = orDefault(entry['Service']['Tags'], []);
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) return true;
  return required.every((tag) => tags.includes(tag));
}

/**
 * Parses a health answer: entries without every `requiredTags` tag, and
 * entries whose applicable weight is 0 (Consul's "send nothing", such as
 * `Weights.Warning: 0` while a check warns), are left out silently (they are
 * not for us), entries that fail validation (an
 * unspecified address such as `0.0.0.0` included) are rejected one by one
 * (the rest survive), and a second entry with an endpoint id already seen is
 * rejected. An answer of rejected entries only is for the caller to treat as
 * an error. Throws {@link ConsulAnswerError} when the body is not an array at all.
 */
export function parseHealthAnswer(body: unknown, requiredTags: readonly string[], label: string): ParsedHealth {
  if (!Array.isArray(body)) {
    const got = Buffer.isBuffer(body) ? `${body.length} bytes that are not JSON` : body === null ? 'null' : typeof body;
    throw new ConsulAnswerError(`${label}: expected a JSON array of health entries, got ${got}`);
  }
  const endpoints: Endpoint[] = [];
  const rejected: RejectedEntry[] = [];
  const seen = new Set<string>();
  body.forEach((entry: unknown, index) => {
    if (!carriesTags(entry, requiredTags) || weighsNothing(entry)) return;
    let endpoint: Endpoint;
    try {
      endpoint = healthEntryToEndpoint(entry, `${label}[${index}]`);
    } catch (error) {
      rejected.push({ entry, error: error as Error });
      return;
    }
    if (seen.has(endpoint.id)) {
      rejected.push({ entry, error: invalidConfig(`${label}[${index}]`, 'an endpoint not listed twice', endpoint.id) });
      return;
    }
    seen.add(endpoint.id);
    endpoints.push(endpoint);
  });
  return { endpoints: Object.freeze(endpoints), rejected };
}

/**
 * Reads `X-Consul-Index`. Returns undefined (start over with a non-blocking
 * query) when it is missing, not a positive integer, or lower than
 * `previous`: Consul's docs ask clients to reset in those cases, since
 * blocking on a bad index could wait forever or return at once forever.
 */
export function nextIndex(header: unknown, previous: bigint | undefined): bigint | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (typeof text !== 'string' || !/^\d{1,20}$/.test(text)) return undefined;
  const index = BigInt(text);
  if (index <= 0n) return undefined;
  if (previous !== undefined && index < previous) return undefined;
  return index;
}
