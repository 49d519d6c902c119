import type { IncomingHttpHeaders } from 'node:http';
import { parseDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { DEADLINE_HEADER } from '../transports/deadline-header.js';

/** gRPC's deadline header: `grpc-timeout: <1-8 digits><unit>` (gRPC over HTTP/2 spec). */
export const GRPC_TIMEOUT_HEADER = 'grpc-timeout';

/** How an inbound request's deadline is read. */
export interface InboundDeadlineOptions {
  /**
   * Deadline for a request that carries no deadline header (an edge service
   * facing browsers may want one). Default none: the request is unbounded.
   */
  readonly default?: Duration;
  /**
   * Cap on what a caller may ask for: a header asking for more is cut to this.
   * Default none.
   */
  readonly max?: Duration;
  /** Also read gRPC's `grpc-timeout` header (the smaller of the two wins). Default true. */
  readonly grpcTimeout?: boolean;
}

/** Validated {@link InboundDeadlineOptions}, in ms (`Infinity` for none). */
export interface InboundDeadlineSettings {
  readonly defaultMs: number;
  readonly maxMs: number;
  readonly grpcTimeout: boolean;
}

const KNOWN = ['default', 'max', 'grpcTimeout'];

/** Validates deadline options; errors are `ERR_INVALID_CONFIG` naming `<option>.<name>`. */
export function resolveDeadlineOptions(options: InboundDeadlineOptions | undefined, option = 'deadline'): InboundDeadlineSettings {
  if (options === undefined) return { defaultMs: Infinity, maxMs: Infinity, grpcTimeout: true };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidConfig(option, 'an options object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw invalidConfig(`${option}.${key}`, `one of ${KNOWN.join(', ')}`, (options as Record<string, unknown>)[key]);
  }
  const grpcTimeout = options.grpcTimeout ?? true;
  if (typeof grpcTimeout !== 'boolean') throw invalidConfig(`${option}.grpcTimeout`, 'a boolean', grpcTimeout);
  const maxMs = options.max === undefined ? Infinity : positive(options.max, `${option}.max`);
  const defaultMs = options.default === undefined ? Infinity : Math.min(positive(options.default, `${option}.default`), maxMs);
  return { defaultMs, maxMs, grpcTimeout };
}

function positive(value: Duration, option: string): number {
  const ms = parseDuration(value, option);
  if (ms <= 0) throw invalidConfig(option, 'a duration > 0', value);
  return ms;
}

/** First value of a header that Node may hand over as a string or an array. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const MESHKIT_VALUE = /^\s*(\d{1,12})\s*$/;

/** Remaining ms from `x-meshkit-deadline`; undefined when absent or malformed. */
export function parseMeshkitDeadline(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = MESHKIT_VALUE.exec(value);
  return match === null ? undefined : Number(match[1]);
}

const GRPC_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };
const GRPC_VALUE = /^\s*(\d{1,8})([HMSmun])\s*$/;

/** Remaining ms from `grpc-timeout` (`100m`, `2S`, ...); undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = GRPC_VALUE.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * (GRPC_UNIT_MS[match[2] as string] as number);
}

/**
 * The remaining time an inbound request asks for, in ms: the smaller of
 * `x-meshkit-deadline` and (if enabled) `grpc-timeout`, capped by `max`, or
 * `default` when neither header is there or readable. `Infinity` when
 * unbounded. A malformed header counts as absent: a caller's bad header must
 * not turn into a 504.
 */
export function requestedDeadlineMs(headers: IncomingHttpHeaders, settings: InboundDeadlineSettings): number {
  const own = parseMeshkitDeadline(single(headers[DEADLINE_HEADER]));
  const grpc = settings.grpcTimeout ? parseGrpcTimeout(single(headers[GRPC_TIMEOUT_HEADER])) : undefined;
  if (own === undefined && grpc === undefined) return settings.defaultMs;
  return Math.min(own ?? Infinity, grpc ?? Infinity, settings.maxMs);
}

/**
 * The absolute deadline (`systemClock.now()` time, the clock the client's
 * inherited deadline is read against) of a request that arrived at `now`;
 * `Infinity` when unbounded. The relative header means hops need no
 * synchronised clocks; time spent on the wire is not counted, as in gRPC.
 */
export function inboundDeadline(headers: IncomingHttpHeaders, settings: InboundDeadlineSettings, now: number): number {
  const ms = requestedDeadlineMs(headers, settings);
  return ms === Infinity ? Infinity : now + ms;
}
