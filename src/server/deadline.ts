import type { IncomingHttpHeaders } from 'node:http';
import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { checkOptions, readBoolean } from '../core/options.js';
import { DEADLINE_HEADER } from '../transports/deadline-header.js';
import type { InboundStats } from './inbound-stats.js';

/** gRPC's deadline header: `grpc-timeout: <1-8 digits><unit>` (gRPC over HTTP/2 spec). */
export const GRPC_TIMEOUT_HEADER = 'grpc-timeout';

/** The default of `deadline.max`: the longest deadline a caller may ask for, 5 minutes. */
export const DEFAULT_MAX_DEADLINE_MS = 5 * 60_000;

/** How an inbound request's deadline is read. */
export interface InboundDeadlineOptions {
  /**
   * Deadline for a request that carries no readable deadline header (an edge
   * service facing browsers may want one). Default none: the request is unbounded.
   */
  readonly default?: Duration;
  /**
   * The longest deadline a caller may ask for: a header asking for more is cut
   * to this (and counted, see `InboundStats`), so a caller cannot make this
   * service hold timers for days. At most 2^31 - 1 ms. Default 5 minutes, or
   * `default` when that is longer.
   */
  readonly max?: Duration;
  /** Also read gRPC's `grpc-timeout` header (the smaller of the two wins). Default true. */
  readonly grpcTimeout?: boolean;
}

/** Validated {@link InboundDeadlineOptions}, in ms (`defaultMs` is `Infinity` for none). */
export interface InboundDeadlineSettings {
  readonly defaultMs: number;
  readonly maxMs: number;
  readonly grpcTimeout: boolean;
}

const KNOWN = ['default', 'max', 'grpcTimeout'];

/** Validates deadline options; errors are `ERR_INVALID_CONFIG` naming `<option>.<name>`. */
export function resolveDeadlineOptions(options: InboundDeadlineOptions | undefined, option = 'deadline'): InboundDeadlineSettings {
  const o = checkOptions(options === undefined ? {} : options, option, KNOWN);
  const grpcTimeout = readBoolean(o['grpcTimeout'], `${option}.grpcTimeout`, true);
  const askedDefault = o['default'] === undefined ? Infinity : parsePositiveDuration(o['default'], `${option}.default`);
  const maxMs = o['max'] === undefined
    ? Math.max(DEFAULT_MAX_DEADLINE_MS, askedDefault === Infinity ? 0 : askedDefault)
    : parsePositiveDuration(o['max'], `${option}.max`);
  // No default stays unbounded: max cuts what a caller asks for, it does not invent a deadline.
  return { defaultMs: askedDefault === Infinity ? Infinity : Math.min(askedDefault, maxMs), maxMs, grpcTimeout };
}

/** First value of a header that Node may hand over as a string or an array. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const MESHKIT_VALUE = /^\s*(\d{1,12})\s*$/;

/** Remaining ms from `x-meshkit-deadline` (whole ms, up to 12 digits); undefined when absent or malformed. */
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
 * `x-meshkit-deadline` and (if enabled) `grpc-timeout`, cut to `max`, or
 * `default` when neither header is there or readable. `Infinity` when
 * unbounded. A malformed header counts as absent: a caller's bad header must
 * not turn into a 504. `stats`, when given, counts malformed and cut headers.
 */
export function requestedDeadlineMs(headers: IncomingHttpHeaders, settings: InboundDeadlineSettings, stats?: InboundStats): number {
  const ownHeader = single(headers[DEADLINE_HEADER]);
  const grpcHeader = settings.grpcTimeout ? single(headers[GRPC_TIMEOUT_HEADER]) : undefined;
  if (ownHeader === undefined && grpcHeader === undefined) return settings.defaultMs;
  const own = parseMeshkitDeadline(ownHeader);
  const grpc = parseGrpcTimeout(grpcHeader);
  if ((own === undefined && ownHeader !== undefined) || (grpc === undefined && grpcHeader !== undefined)) stats?.countMalformed();
  if (own === undefined && grpc === undefined) return settings.defaultMs;
  const asked = Math.min(own ?? Infinity, grpc ?? Infinity);
  if (asked <= settings.maxMs) return asked;
  stats?.countClamped();
  return settings.maxMs;
}

/**
 * The absolute deadline (on the clock `now` was read from, which the
 * inbound context carries for the calls that inherit it) of a request that arrived at `now`;
 * `Infinity` when unbounded. The relative header means hops need no
 * synchronised clocks; time spent on the wire is not counted, as in gRPC.
 */
export function inboundDeadline(headers: IncomingHttpHeaders, settings: InboundDeadlineSettings, now: number, stats?: InboundStats): number {
  const ms = requestedDeadlineMs(headers, settings, stats);
  return ms === Infinity ? Infinity : now + ms;
}
