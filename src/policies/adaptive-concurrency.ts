import type { AdmissionEnvironment, AdmissionGate } from '../core/admission.js';
import type { CallContext } from '../core/call-context.js';
import type { Clock } from '../core/clock.js';
import { MeshkitError } from '../core/errors.js';
import type { Invoke, Policy } from '../core/policy.js';
import type { LimitAlgorithm } from './limits/limit.js';
import { ConcurrencyLimiter, type LimiterSignal, type SampleWindowOptions } from './limits/limiter.js';

/** Options for {@link adaptiveConcurrency}. */
export interface AdaptiveConcurrencyOptions {
  /** How the limit moves: `gradient2()` (default), `vegas()`, `aimd()` or your own {@link LimitAlgorithm}. */
  readonly algorithm?: LimitAlgorithm;
  /**
   * How completed calls are grouped into samples for the algorithm, or `false`
   * to feed it every call. Default windows of 100 ms to 1 s with at least 10 calls.
   */
  readonly window?: SampleWindowOptions | false;
  /** Time and randomness (tests pass a `VirtualClock`). Default the system clock. */
  readonly clock?: Clock;
}

/**
 * Adaptive concurrency's state for `client.snapshot()` and status pages. Plain
 * JSON with stable keys (see docs/status-page.md); a type alias so it is a `Record<string, unknown>`.
 */
export type AdaptiveConcurrencySnapshot = {
  readonly kind: 'adaptive-concurrency';
  /** The limit algorithm's name (`gradient2`, `vegas`, `aimd`, or yours). */
  readonly algorithm: string;
  /** The current limit on calls in flight. */
  readonly limit: number;
  /** Calls admitted and not yet settled. */
  readonly inFlight: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  /** Calls refused over the limit since creation. */
  readonly rejected: number;
};

/** The policy returned by {@link adaptiveConcurrency}. */
export interface AdaptiveConcurrencyPolicy extends Policy {
  readonly name: 'adaptive-concurrency';
  /** Its limiter: read `limiter.limit` and `limiter.inFlight` for status. */
  readonly limiter: ConcurrencyLimiter;
  /** The limit, calls in flight and refusals as plain JSON, for `client.snapshot()`. Reads only. */
  snapshot(): AdaptiveConcurrencySnapshot;
  /**
   * A new policy with the same algorithm, window and clock, a fresh limit
   * (the algorithm's initial one) and nothing in flight; each built client
   * gets one (see `Policy.clone`).
   */
  clone(): AdaptiveConcurrencyPolicy;
}

/**
 * Adaptive concurrency: a limit on calls in flight that finds itself from
 * observed latency (Netflix concurrency-limits; Envoy's adaptive concurrency
 * filter is the same idea on the server side). A call over the current limit
 * is refused at once, before it queues anywhere, with `MeshkitError`
 * `ERR_LIMIT_EXCEEDED` (`details: { reason: 'adaptive-concurrency', limit }`).
 *
 * Each admitted call's RTT (clock time from admission until the whole call,
 * retries included, settles) feeds the algorithm, grouped into sample windows.
 * The final attempt's outcome decides what the call says:
 * - a timeout or deadline, or a 429 or 503 response, is a **drop**: the
 *   upstream is overloaded (it ran out of time or said so), whatever RTT it had;
 * - any other outcome with `ok` is a normal **sample**;
 * - other failures (connection refused or reset, 500, errors, aborts) and
 *   calls refused before an attempt (no endpoints, an open breaker) are
 *   **ignored**: a fast failure says nothing about capacity, and its short RTT
 *   would read as spare capacity.
 *
 * Put it outermost among admission policies (after the deadline, before
 * circuit breakers and retries), so one logical call holds one slot.
 * One policy value has one limiter; a builder gives every client it builds
 * its own (`clone()`; pass `.policy(() => shared)` to share one limit).
 * No timer; success costs one clock read and a few arithmetic operations
 * (run as the client's admission gate, the admission time is the call's).
 *
 * Defaults: `algorithm: gradient2()` (initial 20, min 20, max 200: lower
 * `minLimit` for upstreams that serve fewer than about 20 calls at once),
 * windows of 100 ms to 1 s. Throws `ERR_INVALID_CONFIG` naming
 * `adaptiveConcurrency.<option>`.
 */
export function adaptiveConcurrency(options?: AdaptiveConcurrencyOptions): AdaptiveConcurrencyPolicy {
  const limiter = new ConcurrencyLimiter(options ?? {}, 'adaptiveConcurrency');
  // Counted on the refusal path only: admitted calls pay nothing for it.
  let rejected = 0;
  return Object.freeze({
    name: 'adaptive-concurrency' as const,
    limiter,
    wrap<T>(next: Invoke<T>): Invoke<T> {
      const clock = limiter.clock;
      // Not an async function: `.then` with two small closures costs less than an async frame and its await.
      return (call: CallContext): Promise<T> => {
        const inFlight = limiter.tryAcquire();
        if (inFlight === 0) {
          rejected++;
          return Promise.reject(limitExceeded(call, limiter.limit));
        }
        const startedAt = clock.now();
        let pending: Promise<T>;
        try {
          pending = next(call);
        } catch (error) {
          limiter.release(startedAt, inFlight, signalOf(call));
          return Promise.reject(error);
        }
        return pending.then(
          (result) => {
            limiter.release(startedAt, inFlight, signalOf(call));
            return result;
          },
          (error: unknown) => {
            limiter.release(startedAt, inFlight, signalOf(call));
            throw error;
          },
        );
      };
    },
    /** The limiter as the client's admission gate, when the client's clock is the limiter's (it times calls from `call.admittedAt`). */
    admission(environment: AdmissionEnvironment): AdmissionGate | undefined {
      // The gate times calls from `call.admittedAt`, read on the client's clock: only valid when that is the limiter's.
      if (environment.clock !== limiter.clock) return undefined;
      return {
        admit(call: CallContext): Error | undefined {
          if (limiter.tryAcquire() !== 0) return undefined;
          rejected++;
          return limitExceeded(call, limiter.limit);
        },
        release(call: CallContext): void {
          // In flight when it ends (this call included) stands for in flight when it started: no per-call state.
          // The final attempt's end time, when the executor read it (same clock), saves a read.
          const ended = call.current?.endedAt;
          limiter.release(call.admittedAt, limiter.inFlight, signalOf(call), ended === undefined || ended === 0 ? undefined : ended);
        },
      };
    },
    clone(): AdaptiveConcurrencyPolicy {
      return adaptiveConcurrency({ algorithm: limiter.algorithm, window: limiter.window ?? false, clock: limiter.clock });
    },
    snapshot(): AdaptiveConcurrencySnapshot {
      const { name, minLimit, maxLimit } = limiter.algorithm;
      return { kind: 'adaptive-concurrency', algorithm: name, limit: limiter.limit, inFlight: limiter.inFlight, minLimit, maxLimit, rejected };
    },
  });
}

/** What the call's final attempt says about the upstream's capacity. */
function signalOf(call: CallContext): LimiterSignal {
  const outcome = call.current?.outcome;
  // The caller's abort or deadline, or a request refused locally, says nothing about the upstream's capacity.
  if (outcome === undefined || outcome.blame !== 'upstream') return 'ignore';
  const status = outcome.status;
  if (status === 429 || status === 503 || outcome.reason === 'timeout' || outcome.reason === 'deadline') return 'dropped';
  return outcome.ok ? 'success' : 'ignore';
}

function limitExceeded(call: CallContext, limit: number): MeshkitError {
  return new MeshkitError(
    'ERR_LIMIT_EXCEEDED',
    `Adaptive concurrency limit of ${limit} calls in flight reached for ${call.service}`,
    { reason: 'adaptive-concurrency', limit },
  );
}
