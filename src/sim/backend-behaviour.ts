import { invalidConfig } from '../core/errors.js';
import { checkOptions, readBoolean, readNumber } from '../core/options.js';
import type { SimClock } from './event-loop.js';
import { latencySampler, type LatencySampler, type LatencySpec } from './latency.js';

/** A request as a simulated backend's {@link SimHandler} sees it. */
export interface SimRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  /** Header names in lower case, as Node gives them: `x-meshkit-deadline` and trace headers included. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as sent (a string or bytes for replayable bodies); undefined for none. */
  readonly body: unknown;
}

/** What a {@link SimHandler} is told besides the request. */
export interface SimHandlerContext {
  /** The backend serving the request (its `id`, `service`, `zone`). */
  readonly backend: { readonly id: string; readonly service: string; readonly zone: string | undefined };
  /** The simulation's clock: build a mid-tier's clients with `.clock(clock)`. */
  readonly clock: SimClock;
  /** Absolute clock time by which the caller wants the answer (from `x-meshkit-deadline`); `Infinity` for none. */
  readonly deadline: number;
}

/** What a {@link SimHandler} answers. */
export interface SimHandlerResult {
  /** Default 200. */
  readonly status?: number;
  /** Response headers, lower-case names. Default none. */
  readonly headers?: Readonly<Record<string, string>>;
  /** A string, bytes, or an object sent as JSON. Default empty. */
  readonly body?: string | Uint8Array | object;
}

/**
 * Serves one request (a mid-tier that calls further services). Called when
 * the request enters service, inside meshkit's inbound context: meshkit calls
 * made from it inherit what is left of the caller's deadline, as behind the
 * Express middleware. A throw or rejection answers 500.
 */
export type SimHandler = (request: SimRequest, context: SimHandlerContext) => Promise<SimHandlerResult>;

/**
 * How a simulated backend behaves; every field is optional in
 * `SimBackend.set()`, which changes only what it is given. The failure rates
 * are probabilities per request, drawn once on arrival; they add up to at most 1.
 */
export interface SimBehaviour {
  /** Service time of a request once it is served. Default 0 (answers at once). */
  readonly latency?: LatencySpec;
  /** Requests served at once; the rest wait in a FIFO queue. Default `Infinity` (no queueing). */
  readonly servers?: number;
  /** Requests that may wait for a server; one more is answered 503 at once. Default `Infinity`. */
  readonly queue?: number;
  /** Share of requests answered with `errorStatus` after their service time. Default 0. */
  readonly errorRate?: number;
  /** Status of those errors. Default 503. */
  readonly errorStatus?: number;
  /** Connections are refused at once (nothing listens): `ECONNREFUSED`. Default false. */
  readonly refused?: boolean;
  /** Share of requests whose connection resets after their service time (`ECONNRESET`). Default 0. */
  readonly resetRate?: number;
  /** Share of requests whose headers come after their service time and whose body never ends. Default 0. */
  readonly stallRate?: number;
  /** Share of requests never answered: only the caller's timeout or abort ends them. Default 0. */
  readonly blackholeRate?: number;
  /** Serves each successful request (see {@link SimHandler}); `null` removes one. Default none: an empty 200. */
  readonly handler?: SimHandler | null;
  /**
   * The backend stops working on a request whose caller aborted (its
   * per-try timeout, a lost hedge, a deadline) and frees its server. Default
   * false: as most servers, it never learns and keeps its capacity busy.
   */
  readonly cancelOnAbort?: boolean;
}

/** A {@link SimBehaviour} with every field resolved. */
export interface ResolvedBehaviour {
  readonly latency: LatencySpec;
  readonly sample: LatencySampler;
  readonly servers: number;
  readonly queue: number;
  readonly errorRate: number;
  readonly errorStatus: number;
  readonly refused: boolean;
  readonly resetRate: number;
  readonly stallRate: number;
  readonly blackholeRate: number;
  readonly handler: SimHandler | undefined;
  readonly cancelOnAbort: boolean;
}

/** The keys of {@link SimBehaviour}. */
export const BEHAVIOUR_KEYS: readonly string[] = Object.freeze([
  'latency', 'servers', 'queue', 'errorRate', 'errorStatus', 'refused', 'resetRate', 'stallRate', 'blackholeRate', 'handler', 'cancelOnAbort',
]);

/** The behaviour of a backend nobody configured: an empty 200 at once, unlimited capacity, no failures. */
export const DEFAULT_BEHAVIOUR: ResolvedBehaviour = Object.freeze({
  latency: 0, sample: latencySampler(0), servers: Infinity, queue: Infinity, errorRate: 0, errorStatus: 503, refused: false,
  resetRate: 0, stallRate: 0, blackholeRate: 0, handler: undefined, cancelOnAbort: false,
});

function countOrInfinity(value: unknown, option: string, fallback: number, min: number): number {
  if (value === Infinity) return Infinity;
  return readNumber(value, option, fallback, { integer: true, min });
}

function rate(value: unknown, option: string, fallback: number): number {
  return readNumber(value, option, fallback, { min: 0, max: 1 });
}

/**
 * `base` with the fields of `partial` changed. Throws `ERR_INVALID_CONFIG`
 * naming `<option>.<field>`: an unknown field (with the nearest known one), a
 * bad value, or failure rates adding up to more than 1.
 */
export function resolveBehaviour(partial: unknown, base: ResolvedBehaviour, option: string): ResolvedBehaviour {
  const o = checkOptions(partial, option, BEHAVIOUR_KEYS);
  const handler = o['handler'];
  if (handler !== undefined && handler !== null && typeof handler !== 'function') throw invalidConfig(`${option}.handler`, 'a function, or null for none', handler);
  const resolved: ResolvedBehaviour = {
    latency: o['latency'] === undefined ? base.latency : o['latency'] as LatencySpec,
    sample: o['latency'] === undefined ? base.sample : latencySampler(o['latency'] as LatencySpec, `${option}.latency`),
    servers: countOrInfinity(o['servers'], `${option}.servers`, base.servers, 1),
    queue: countOrInfinity(o['queue'], `${option}.queue`, base.queue, 0),
    errorRate: rate(o['errorRate'], `${option}.errorRate`, base.errorRate),
    errorStatus: readNumber(o['errorStatus'], `${option}.errorStatus`, base.errorStatus, { integer: true, min: 100, max: 599 }),
    refused: readBoolean(o['refused'], `${option}.refused`, base.refused),
    resetRate: rate(o['resetRate'], `${option}.resetRate`, base.resetRate),
    stallRate: rate(o['stallRate'], `${option}.stallRate`, base.stallRate),
    blackholeRate: rate(o['blackholeRate'], `${option}.blackholeRate`, base.blackholeRate),
    handler: handler === undefined ? base.handler : handler === null ? undefined : handler as SimHandler,
    cancelOnAbort: readBoolean(o['cancelOnAbort'], `${option}.cancelOnAbort`, base.cancelOnAbort),
  };
  const total = resolved.errorRate + resolved.resetRate + resolved.stallRate + resolved.blackholeRate;
  if (total > 1 + 1e-9) {
    throw invalidConfig(option, 'errorRate + resetRate + stallRate + blackholeRate <= 1', { errorRate: resolved.errorRate, resetRate: resolved.resetRate, stallRate: resolved.stallRate, blackholeRate: resolved.blackholeRate });
  }
  return Object.freeze(resolved);
}
