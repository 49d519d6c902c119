import CircuitBreaker from 'opossum';
import type { CircuitState } from '../breaker/engine.js';
import { isIgnoredEnd } from '../breaker/ignored.js';
import type { CallContext } from '../core/call-context.js';
import { MAX_DURATION_MS } from '../core/duration.js';
import { invalidConfig, MeshkitError } from '../core/errors.js';
import { checkOptions, isOptionsObject, readFunction, readString } from '../core/options.js';
import type { Invoke, Policy } from '../core/policy.js';

/** Node's timer limit, as opossum's durations reach `setTimeout`/`setInterval` unchanged. */
const TIMER_LIMIT = `<= ${MAX_DURATION_MS} (Node's timer limit)`;

/** Checks one opossum option's value (never undefined); throws `ERR_INVALID_CONFIG` naming it. */
type OpossumCheck = (value: unknown, option: string) => void;

function number(expected: string, ok: (n: number) => boolean): OpossumCheck {
  return (value, option) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) throw invalidConfig(option, expected, value);
  };
}

function integer(min: number): OpossumCheck {
  return number(`an integer >= ${min}`, (n) => Number.isSafeInteger(n) && n >= min);
}

function ofType(type: 'boolean' | 'string' | 'function'): OpossumCheck {
  const expected = type === 'boolean' ? 'true or false' : type === 'string' ? 'a non-empty string' : 'a function';
  return (value, option) => {
    if (typeof value !== type || value === '') throw invalidConfig(option, expected, value);
  };
}

function withMethods(expected: string, methods: readonly string[]): OpossumCheck {
  return (value, option) => {
    const ok = typeof value === 'object' && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
    if (!ok) throw invalidConfig(option, expected, value);
  };
}

/** A timer duration: ms > 0 (0 would fire at once) up to Node's limit (past it Node fires after 1 ms). */
const timerMs = number(`milliseconds > 0 and ${TIMER_LIMIT}`, (n) => n > 0 && n <= MAX_DURATION_MS);
/** A time to live added to `Date.now()`: 0 means none (opossum's "infinity"); bounded like every meshkit duration. */
const ttlMs = number(`milliseconds >= 0 (0: no expiry) and ${TIMER_LIMIT}`, (n) => n >= 0 && n <= MAX_DURATION_MS);
const RESET_ON: readonly string[] = ['error', 'success', 'timeout'];

/**
 * The type (and, for durations, meshkit's bounds) of every opossum option
 * (opossum 9's documented constructor options). `errorFilter` is read
 * separately. Values opossum documents stay valid (`timeout: false`, a TTL
 * of 0); ones it would misread are refused (a string `'50'`, a negative
 * timeout, a reset timeout past Node's timer limit).
 */
const OPOSSUM_CHECKS: Readonly<Record<string, OpossumCheck>> = {
  // false (or 0) turns opossum's timeout off, meshkit's default here.
  timeout: (value, option) => {
    if (value !== false && value !== 0) number(`false (no timeout), or milliseconds > 0 and ${TIMER_LIMIT}`, (n) => n > 0 && n <= MAX_DURATION_MS)(value, option);
  },
  maxFailures: integer(0),
  resetTimeout: timerMs,
  rollingCountTimeout: timerMs,
  rollingCountBuckets: integer(1),
  name: ofType('string'),
  group: ofType('string'),
  rollingPercentilesEnabled: ofType('boolean'),
  capacity: integer(1),
  errorThresholdPercentage: number('a percentage from 0 to 100', (n) => n >= 0 && n <= 100),
  enabled: ofType('boolean'),
  allowWarmUp: ofType('boolean'),
  volumeThreshold: integer(0),
  errorFilter: () => {},
  cache: ofType('boolean'),
  cacheTTL: ttlMs,
  cacheSize: integer(1),
  cacheGetKey: ofType('function'),
  cacheTransport: withMethods('a cache transport with get, set and flush methods', ['get', 'set', 'flush']),
  coalesce: ofType('boolean'),
  coalesceTTL: ttlMs,
  coalesceSize: integer(1),
  coalesceResetOn: (value, option) => {
    if (!Array.isArray(value) || !value.every((v) => RESET_ON.includes(v as string))) {
      throw invalidConfig(option, "an array of 'error', 'success', 'timeout'", value);
    }
  },
  abortController: withMethods('an AbortController', ['abort']),
  autoRenewAbortController: ofType('boolean'),
  enableSnapshots: ofType('boolean'),
  rotateBucketController: withMethods('an EventEmitter (on, removeListener, listenerCount)', ['on', 'removeListener', 'listenerCount']),
  state: (value, option) => {
    if (!isOptionsObject(value)) throw invalidConfig(option, "opossum's saved state object (breaker.toJSON().state)", value);
  },
};

/**
 * Checks every opossum option's type and bounds (see {@link OPOSSUM_CHECKS}),
 * and that the rolling window's buckets are at least 1 ms long (opossum
 * rotates them with `setInterval(floor(rollingCountTimeout / rollingCountBuckets))`:
 * 0 would spin every millisecond).
 */
function checkOpossumValues(opossum: Readonly<Record<string, unknown>>, option: string): void {
  for (const [key, value] of Object.entries(opossum)) {
    if (value !== undefined) OPOSSUM_CHECKS[key]?.(value, `${option}.${key}`);
  }
  const windowMs = (opossum['rollingCountTimeout'] as number | undefined) ?? 10_000;
  const buckets = (opossum['rollingCountBuckets'] as number | undefined) ?? 10;
  if (Math.floor(windowMs / buckets) < 1) {
    throw invalidConfig(`${option}.rollingCountTimeout`, `at least 1 ms per bucket (>= rollingCountBuckets, ${buckets})`, opossum['rollingCountTimeout'] ?? windowMs);
  }
}

/** Options of {@link opossumCircuitBreaker}. */
export interface OpossumCircuitBreakerOptions {
  /**
   * opossum's own constructor options (its `CircuitBreaker.Options`: `resetTimeout`,
   * `errorThresholdPercentage`, `volumeThreshold`, `rollingCountTimeout`, ...), passed
   * to `new CircuitBreaker()` with opossum's defaults, except `timeout`, which
   * defaults to `false` here (meshkit's per-try timeout and deadline do that job).
   * An `errorFilter` is kept and runs after meshkit's (see {@link opossumCircuitBreaker}).
   * Unknown keys are refused, and so are values of the wrong type (`'50'` for
   * a number) or out of bounds: durations are milliseconds as numbers, those
   * that reach a timer (`timeout`, `resetTimeout`, `rollingCountTimeout`) > 0
   * and at most 2^31 - 1 (Node's timer limit), `cacheTTL` and `coalesceTTL`
   * >= 0; `errorThresholdPercentage` 0 to 100; counts are integers
   * (`ERR_INVALID_CONFIG` naming `opossumCircuitBreaker.opossum.<key>`). Default `{}`.
   */
  readonly opossum?: Readonly<Record<string, unknown>>;
  /** The policy's name, in errors; also opossum's `name` unless `opossum.name` is set. Default `'opossum-circuit-breaker'`. */
  readonly name?: string;
}

/**
 * The part of an opossum `CircuitBreaker` meshkit documents (typed here so that
 * meshkit's types need none of opossum's; cast to opossum's `CircuitBreaker` for
 * the rest of its public API: `fallback()`, `stats`, its events).
 */
export interface OpossumBreaker {
  /** opossum's `name` (the policy's name unless `opossum.name` is set). */
  readonly name: string;
  /** True while open (calls are refused). */
  readonly opened: boolean;
  /** True while half-open (the next call is the trial). */
  readonly halfOpen: boolean;
  /** True while closed. */
  readonly closed: boolean;
  /** True once shut down (`close()` on the policy). */
  readonly isShutdown: boolean;
  /** Subscribes to one of opossum's events (`'open'`, `'halfOpen'`, `'close'`, `'failure'`, ...). */
  on(event: string, listener: (...args: never[]) => void): unknown;
  /** Opens the breaker by hand (opossum's `open()`). */
  open(): void;
  /** Closes the breaker by hand (opossum's `close()`). */
  close(): void;
  /** Shuts opossum down (its timers); later calls reject with `ERR_CLIENT_CLOSED`. */
  shutdown(): void;
}

/** A policy running calls through a real opossum breaker: add it with `.policy(breaker)`. */
export interface OpossumCircuitBreakerPolicy extends Policy {
  /** The opossum breaker itself: subscribe to its events, read its `stats`, register a `fallback()`. */
  readonly breaker: OpossumBreaker;
  /** opossum's state in meshkit's names. */
  readonly state: CircuitState;
  /** Shuts the opossum breaker down (its timers); later calls reject with `ERR_CLIENT_CLOSED`. Idempotent. */
  close(): void;
  /** A new opossum breaker with the same options (each built client gets one; see `Policy.clone`). */
  clone(): OpossumCircuitBreakerPolicy;
}

/**
 * A call that resolved with a final outcome that is not ok and the upstream's
 * (an HTTP 5xx): rejected to opossum so it counts a failure. One that is not
 * the upstream's (a 504 for the caller's deadline spent downstream) resolves,
 * as a filtered error does.
 */
class FailedResult {
  constructor(readonly value: unknown) {}
}

/** The action every meshkit opossum breaker fires: run the rest of the pipeline. */
async function runNext(call: CallContext, next: Invoke<unknown>): Promise<unknown> {
  const result = await next(call);
  const outcome = call.current?.outcome;
  if (outcome !== undefined && !outcome.ok && outcome.blame === 'upstream') throw new FailedResult(result);
  return result;
}

interface OpossumSettings {
  readonly name: string;
  readonly opossum: Readonly<Record<string, unknown>>;
  readonly userFilter: ((error: unknown, ...args: unknown[]) => boolean) | undefined;
}

class OpossumCircuitBreakerPolicyImpl implements OpossumCircuitBreakerPolicy {
  readonly name: string;
  readonly #settings: OpossumSettings;
  readonly #breaker: CircuitBreaker<[CallContext, Invoke<unknown>], unknown>;

  constructor(settings: OpossumSettings) {
    this.name = settings.name;
    this.#settings = settings;
    const { userFilter } = settings;
    this.#breaker = new CircuitBreaker(runNext, {
      name: settings.name,
      timeout: false,
      ...settings.opossum,
      // Not the upstream's doing: never a failure. (opossum counts a filtered error as a success: it has no third kind.)
      errorFilter: (error: unknown, call: CallContext, next: Invoke<unknown>): boolean =>
        !(error instanceof FailedResult) && (isIgnoredEnd(error, call) || (userFilter?.(error, call, next) ?? false)),
    } as CircuitBreaker.Options<[CallContext, Invoke<unknown>]>);
  }

  get breaker(): OpossumBreaker {
    return this.#breaker;
  }

  get state(): CircuitState {
    const b = this.#breaker;
    return b.opened ? 'open' : b.halfOpen ? 'half-open' : 'closed';
  }

  wrap<T>(next: Invoke<T>): Invoke<T> {
    return async (call) => {
      try {
        return (await this.#breaker.fire(call, next as Invoke<unknown>)) as T;
      } catch (error) {
        if (error instanceof FailedResult) return error.value as T;
        throw this.#translate(error, call);
      }
    };
  }

  clone(): OpossumCircuitBreakerPolicy {
    return new OpossumCircuitBreakerPolicyImpl(this.#settings);
  }

  close(): void {
    if (!this.#breaker.isShutdown) this.#breaker.shutdown();
  }

  /** opossum's own refusals, as MeshkitErrors with their codes; everything else passes through unchanged. */
  #translate(error: unknown, call: CallContext): unknown {
    const code = (error as { code?: unknown } | null)?.code;
    const service = call.service;
    const details = { service, breaker: this.name };
    if (code === 'EOPENBREAKER') {
      return new MeshkitError('ERR_CIRCUIT_OPEN', `${service}: opossum circuit breaker ${this.name} is ${this.state}`, { ...details, state: this.state }, { cause: error });
    }
    if (code === 'ESHUTDOWN') {
      return new MeshkitError('ERR_CLIENT_CLOSED', `${service}: opossum circuit breaker ${this.name} is shut down`, details, { cause: error });
    }
    if (code === 'ESEMLOCKED') {
      return new MeshkitError('ERR_LIMIT_EXCEEDED', `${service}: opossum circuit breaker ${this.name} is at capacity`, details, { cause: error });
    }
    if (code === 'ETIMEDOUT') {
      return new MeshkitError('ERR_TIMEOUT', `${service}: opossum circuit breaker ${this.name} timed out`, details, { cause: error });
    }
    return error;
  }
}

/**
 * A service-level circuit breaker run by opossum itself, for those who want
 * opossum's exact semantics, options and events; `circuitBreaker()` is
 * meshkit's own. Each call goes through opossum's public `fire()`, so
 * everything opossum offers works as documented (fallbacks registered on
 * {@link OpossumCircuitBreakerPolicy.breaker}, cache, capacity, warm-up, its
 * events and stats). meshkit adds only:
 * - a resolved call whose final outcome is not ok (the HTTP 5xx that
 *   `request()` resolves with) is a failure to opossum, and the caller still
 *   receives it;
 * - an `errorFilter` that keeps errors that are not the upstream's doing
 *   (the caller's abort or deadline, the client closing, an inner policy's
 *   `ERR_LIMIT_EXCEEDED`) from counting as failures; opossum then counts them
 *   as successes (it has no "ignored"), unlike `circuitBreaker()`;
 * - opossum's refusals become `MeshkitError`s: `ERR_CIRCUIT_OPEN`
 *   (`EOPENBREAKER`), `ERR_CLIENT_CLOSED` (`ESHUTDOWN`), `ERR_LIMIT_EXCEEDED`
 *   (`ESEMLOCKED`), `ERR_TIMEOUT` (`ETIMEDOUT`, only if `opossum.timeout` is set).
 *
 * Limitation: opossum measures time itself, with the global `setTimeout`,
 * `setInterval` and `Date.now()` (its reset timeout, bucket rotation and
 * latencies). It cannot follow meshkit's injected `Clock`: a `VirtualClock`
 * does not move it. Use `circuitBreaker()` where time must be virtual (tests,
 * simulations).
 *
 * A `wrap` stage (a promise per call, plus opossum's own work in `fire()`),
 * never an admission gate. One opossum breaker per client: a builder clones
 * the policy for every client built after the first. `Client.close()` shuts
 * it down.
 */
export function opossumCircuitBreaker(options: OpossumCircuitBreakerOptions = {}): OpossumCircuitBreakerPolicy {
  const option = 'opossumCircuitBreaker';
  const o = checkOptions(options, option, ['opossum', 'name']);
  const given = o['opossum'] ?? {};
  if (!isOptionsObject(given)) throw invalidConfig(`${option}.opossum`, "opossum's options object", given);
  const opossum = checkOptions(given, `${option}.opossum`, Object.keys(OPOSSUM_CHECKS));
  checkOpossumValues(opossum, `${option}.opossum`);
  const userFilter = readFunction<(error: unknown, ...args: unknown[]) => boolean>(opossum['errorFilter'], `${option}.opossum.errorFilter`);
  const name = readString(o['name'], `${option}.name`, 'opossum-circuit-breaker');
  const { errorFilter: _ignored, ...rest } = opossum;
  return new OpossumCircuitBreakerPolicyImpl({ name, opossum: Object.freeze(rest), userFilter });
}
