import CircuitBreaker from 'opossum';
import type { CircuitState } from '../breaker/engine.js';
import { isIgnoredEnd } from '../breaker/ignored.js';
import type { CallContext } from '../core/call-context.js';
import { invalidConfig, MeshkitError } from '../core/errors.js';
import { checkOptions, isOptionsObject, readFunction, readString } from '../core/options.js';
import type { Invoke, Policy } from '../core/policy.js';

/**
 * opossum's documented constructor options (opossum 9), checked for typos.
 * `errorFilter` is the user's filter, which meshkit's runs before.
 */
const OPOSSUM_OPTION_KEYS: readonly string[] = [
  'timeout', 'maxFailures', 'resetTimeout', 'rollingCountTimeout', 'rollingCountBuckets', 'name', 'group',
  'rollingPercentilesEnabled', 'capacity', 'errorThresholdPercentage', 'enabled', 'allowWarmUp', 'volumeThreshold',
  'errorFilter', 'cache', 'cacheTTL', 'cacheSize', 'cacheGetKey', 'cacheTransport', 'coalesce', 'coalesceTTL',
  'coalesceSize', 'coalesceResetOn', 'abortController', 'autoRenewAbortController', 'enableSnapshots',
  'rotateBucketController', 'state',
];

/** Options of {@link opossumCircuitBreaker}. */
export interface OpossumCircuitBreakerOptions {
  /**
   * opossum's own constructor options (its `CircuitBreaker.Options`: `resetTimeout`,
   * `errorThresholdPercentage`, `volumeThreshold`, `rollingCountTimeout`, ...), passed
   * to `new CircuitBreaker()` with opossum's defaults, except `timeout`, which
   * defaults to `false` here (meshkit's per-try timeout and deadline do that job).
   * An `errorFilter` is kept and runs after meshkit's (see {@link opossumCircuitBreaker}).
   * Unknown keys are refused. Default `{}`.
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

/** A call that resolved with a final outcome that is not ok (an HTTP 5xx): rejected to opossum so it counts a failure. */
class FailedResult {
  constructor(readonly value: unknown) {}
}

/** The action every meshkit opossum breaker fires: run the rest of the pipeline. */
async function runNext(call: CallContext, next: Invoke<unknown>): Promise<unknown> {
  const result = await next(call);
  if (call.current?.outcome?.ok === false) throw new FailedResult(result);
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
  const opossum = checkOptions(given, `${option}.opossum`, OPOSSUM_OPTION_KEYS);
  const userFilter = readFunction<(error: unknown, ...args: unknown[]) => boolean>(opossum['errorFilter'], `${option}.opossum.errorFilter`);
  const name = readString(o['name'], `${option}.name`, 'opossum-circuit-breaker');
  const { errorFilter: _ignored, ...rest } = opossum;
  return new OpossumCircuitBreakerPolicyImpl({ name, opossum: Object.freeze(rest), userFilter });
}
