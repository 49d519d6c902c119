import { wrapGate, type AdmissionEnvironment, type AdmissionGate } from '../core/admission.js';
import type { CallContext } from '../core/call-context.js';
import { systemClock, type Clock } from '../core/clock.js';
import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig, MeshkitError } from '../core/errors.js';
import { checkOptions, readNumber } from '../core/options.js';
import type { Invoke, Policy } from '../core/policy.js';

/** Options of {@link adaptiveThrottle}. Defaults are the Google SRE book's. */
export interface AdaptiveThrottleOptions {
  /**
   * The multiplier K: the client keeps sending while requests <= K * accepts.
   * Lower is more aggressive (1 sheds as soon as anything fails); higher lets
   * more doomed requests through. A number >= 1. Default 2 (SRE book).
   */
  readonly k?: number;
  /** How long requests and accepts count. Default `'2m'` (SRE book). */
  readonly window?: Duration;
  /**
   * Buckets the window is divided into; the oldest drops out as time moves
   * on, so the window slides in steps of `window / buckets`. An integer from 1
   * to 1000. Default 20 (6 s steps over 2 minutes).
   */
  readonly buckets?: number;
  /**
   * Below this many requests in the window nothing is rejected, so that a
   * handful of failures at start-up (or on a quiet client) does not shed half
   * of the next calls. 0 gives the SRE book's formula unchanged. An integer >= 0. Default 10.
   */
  readonly minRequests?: number;
  /**
   * Time and randomness; must be the client's clock. Default the system clock
   * (as the client's). Tests pass a `VirtualClock`.
   */
  readonly clock?: Clock;
}

/** Resolved adaptive throttling settings. */
export interface AdaptiveThrottleSettings {
  readonly k: number;
  readonly windowMs: number;
  readonly buckets: number;
  readonly minRequests: number;
}

/** Defaults of {@link adaptiveThrottle}. */
export const DEFAULT_ADAPTIVE_THROTTLE: AdaptiveThrottleSettings = Object.freeze({ k: 2, windowMs: 120_000, buckets: 20, minRequests: 10 });

/** What the throttle has seen over its window, and the rejection probability that follows. */
export interface AdaptiveThrottleState {
  /** Calls made through the throttle in the window, local rejections included. */
  readonly requests: number;
  /** Calls in the window whose final outcome was a success (`reason === 'ok'`). */
  readonly accepts: number;
  /** max(0, (requests - k * accepts) / (requests + 1)); 0 while requests < minRequests. */
  readonly probability: number;
}

/**
 * Adaptive throttling's state for `client.snapshot()` and status pages: the
 * window's counts, the rejection probability, local rejections and the
 * settings. Plain JSON with stable keys (see docs/status-page.md); a type alias
 * so it is a `Record<string, unknown>`.
 */
export type AdaptiveThrottleSnapshot = Pick<AdaptiveThrottleState, keyof AdaptiveThrottleState> & {
  readonly kind: 'adaptive-throttle';
  /** Calls rejected locally since creation. */
  readonly rejected: number;
  readonly k: number;
  readonly windowMs: number;
  readonly minRequests: number;
};

/** An adaptive throttling policy: a {@link Policy} whose counters can be read. */
export interface AdaptiveThrottlePolicy extends Policy {
  readonly settings: AdaptiveThrottleSettings;
  /** The window's counts now. */
  state(): AdaptiveThrottleState;
  /** {@link state} with local rejections and settings, for `client.snapshot()`. Reads without moving the window. */
  snapshot(): AdaptiveThrottleSnapshot;
  /** A new throttle with the same settings and clock and an empty window (each built client gets one; see `Policy.clone`). */
  clone(): AdaptiveThrottlePolicy;
}

const ADAPTIVE_THROTTLE_KEYS: readonly (keyof AdaptiveThrottleOptions)[] = ['k', 'window', 'buckets', 'minRequests', 'clock'];

/** Validates {@link AdaptiveThrottleOptions}; errors name `adaptiveThrottle.<option>` (unknown keys included). */
export function resolveAdaptiveThrottle(options: AdaptiveThrottleOptions): AdaptiveThrottleSettings {
  const o = checkOptions(options, 'adaptiveThrottle', ADAPTIVE_THROTTLE_KEYS);
  const d = DEFAULT_ADAPTIVE_THROTTLE;
  const k = readNumber(o['k'], 'adaptiveThrottle.k', d.k, { min: 1 });
  const windowMs = parsePositiveDuration(o['window'] ?? d.windowMs, 'adaptiveThrottle.window');
  const buckets = readNumber(o['buckets'], 'adaptiveThrottle.buckets', d.buckets, { min: 1, max: 1000, integer: true });
  const minRequests = readNumber(o['minRequests'], 'adaptiveThrottle.minRequests', d.minRequests, { min: 0, integer: true });
  const clock = o['clock'];
  if (clock !== undefined && (clock === null || typeof clock !== 'object'
    || typeof (clock as Clock).now !== 'function' || typeof (clock as Clock).random !== 'function')) {
    throw invalidConfig('adaptiveThrottle.clock', 'a clock with now and random', clock);
  }
  return Object.freeze({ k, windowMs, buckets, minRequests });
}

/**
 * Client-side adaptive throttling from the Google SRE book ("Handling
 * Overload", chapter 21): each client remembers, over the last `window`,
 * how many calls it made (`requests`) and how many the backend accepted
 * (`accepts`), and rejects a new call locally, before sending it, with
 * probability
 *
 *     max(0, (requests - k * accepts) / (requests + 1))
 *
 * So while the backend accepts at least 1/k of the work nothing is rejected;
 * when it rejects most work, the client sheds almost all of it itself and the
 * backend gets room to recover, receiving only about k times what it accepts.
 * Local rejections count as requests (as in the book), so the probability keeps
 * rising while the backend stays down, and falls as accepts return.
 *
 * - An accept is a call whose final outcome is a success
 *   (`call.current.outcome.ok` with `reason === 'ok'`): 5xx, 429 and any other
 *   status classified as retryable, transport errors and timeouts are not
 *   accepts. A call refused before any attempt by an inner policy (breaker,
 *   bulkhead, concurrency limit) counts neither way: it never reached the
 *   backend. Retries inside the call do not count separately: one call is
 *   one request, counted when it settles.
 * - Rejected calls fail with `ERR_LIMIT_EXCEEDED`, `details: { reason:
 *   'adaptive-throttle', probability, requests, accepts, service }`.
 * - Counters live in `buckets` ring buckets rotated lazily when a call reads
 *   them: no timer, nothing to close. The random draw comes from the clock, and
 *   only when the probability is above 0.
 *
 * Defaults: `k` 2 and `window` 2 minutes (SRE book), 20 buckets, `minRequests`
 * 10 (a volume threshold, as circuit breakers have; set 0 for the book's
 * formula unchanged). gRPC's RLS throttler (`adaptive` in grpc-go) is the same
 * algorithm with a larger padding than the book's +1.
 *
 * Success path: one clock read, a few array writes; no timer. As the
 * client's admission gate (see core/admission.ts) it allocates nothing and
 * reads the call's admission time; as a `wrap` stage, one `.then`. An accept
 * is counted in the newest bucket as of the latest call's start (not
 * re-reading the clock when the call ends), so after a quiet spell it may
 * age out up to that spell early.
 * Place it outermost among the admission policies, before rate limits and
 * bulkheads (see docs/policies/adaptive-throttle.md).
 */
export function adaptiveThrottle(options: AdaptiveThrottleOptions = {}): AdaptiveThrottlePolicy {
  return new AdaptiveThrottle(resolveAdaptiveThrottle(options), options.clock ?? systemClock);
}

class AdaptiveThrottle implements AdaptiveThrottlePolicy {
  readonly name = 'adaptive-throttle';
  readonly settings: AdaptiveThrottleSettings;
  readonly #clock: Clock;
  readonly #bucketMs: number;
  readonly #requests: Float64Array;
  readonly #accepts: Float64Array;
  /** Index (time / bucketMs, floored) of the newest bucket. */
  #epoch = Number.NEGATIVE_INFINITY;
  /** Index of the newest bucket in the ring. */
  #slot = 0;
  #requestSum = 0;
  #acceptSum = 0;
  #rejected = 0;

  constructor(settings: AdaptiveThrottleSettings, clock: Clock) {
    this.settings = settings;
    this.#clock = clock;
    this.#bucketMs = settings.windowMs / settings.buckets;
    this.#requests = new Float64Array(settings.buckets);
    this.#accepts = new Float64Array(settings.buckets);
  }

  // Two forms of one gate: the client's admission path reads the call's admission time when the clocks agree.
  readonly #ownClock: AdmissionGate = {
    admit: (call) => this.#admit(call, this.#clock.now()),
    release: (call) => this.#settled(call),
  };
  readonly #callClock: AdmissionGate = {
    admit: (call) => this.#admit(call, call.admittedAt),
    release: (call) => this.#settled(call),
  };

  wrap<T>(next: Invoke<T>): Invoke<T> {
    return wrapGate(this.#ownClock, next);
  }

  clone(): AdaptiveThrottlePolicy {
    return new AdaptiveThrottle(this.settings, this.#clock);
  }

  /** Always a gate: admission never waits. On the client's clock it reads `call.admittedAt` instead of the clock. */
  admission(environment: AdmissionEnvironment): AdmissionGate {
    return environment.clock === this.#clock ? this.#callClock : this.#ownClock;
  }

  #admit(call: CallContext, now: number): Error | undefined {
    const slot = this.#rotate(now);
    const probability = this.#probability();
    if (probability > 0 && this.#clock.random() < probability) {
      // Local rejections count as requests (SRE book): that is what keeps a few probes going to the backend.
      this.#requests[slot]! += 1;
      this.#requestSum += 1;
      this.#rejected++;
      return this.#rejection(call, probability);
    }
    return undefined;
  }

  state(): AdaptiveThrottleState {
    this.#rotate(this.#clock.now());
    return { requests: this.#requestSum, accepts: this.#acceptSum, probability: this.#probability() };
  }

  snapshot(): AdaptiveThrottleSnapshot {
    const { requests, accepts } = this.#peek(this.#clock.now());
    const { k, windowMs, minRequests } = this.settings;
    return {
      kind: 'adaptive-throttle', requests, accepts, probability: this.#probability(requests, accepts), rejected: this.#rejected, k, windowMs, minRequests,
    };
  }

  #probability(requests = this.#requestSum, accepts = this.#acceptSum): number {
    if (requests < this.settings.minRequests) return 0;
    const p = (requests - this.settings.k * accepts) / (requests + 1);
    return p > 0 ? p : 0;
  }

  /** The window's sums as of `now`, as {@link #rotate} would leave them, without changing anything (a status read). */
  #peek(now: number): { requests: number; accepts: number } {
    const n = this.settings.buckets;
    const behind = Math.floor(now / this.#bucketMs) - this.#epoch;
    if (behind >= n) return { requests: 0, accepts: 0 };
    let requests = this.#requestSum;
    let accepts = this.#acceptSum;
    for (let e = this.#epoch + 1; e <= this.#epoch + behind; e++) {
      const i = ((e % n) + n) % n;
      requests -= this.#requests[i]!;
      accepts -= this.#accepts[i]!;
    }
    return { requests, accepts };
  }

  #settled(call: CallContext): void {
    // A call refused before any attempt (an inner breaker, bulkhead or concurrency limit) never reached
    // the backend and says nothing about it: counting it as a non-accept would let local shedding feed this throttle.
    if (call.attempts === 0) return;
    const outcome = call.current?.outcome;
    // Nor does a call the caller gave up on (its abort, its deadline) or whose request was refused locally.
    if (outcome !== undefined && outcome.blame !== 'upstream') return;
    this.#requests[this.#slot]! += 1;
    this.#requestSum += 1;
    if (outcome === undefined || !outcome.ok || outcome.reason !== 'ok') return;
    // Into the newest bucket as of the last clock reading (the latest call's
    // start): no second clock read per call. Under traffic that is the current
    // bucket; after a quiet spell the accept merely ages out a little early.
    this.#accepts[this.#slot]! += 1;
    this.#acceptSum += 1;
  }

  /** Moves the window to `now`, zeroing the buckets that fell out; returns the current bucket's index. */
  #rotate(now: number): number {
    const n = this.settings.buckets;
    const epoch = Math.floor(now / this.#bucketMs);
    const behind = epoch - this.#epoch;
    if (behind > 0) {
      if (behind >= n) {
        this.#requests.fill(0);
        this.#accepts.fill(0);
        this.#requestSum = 0;
        this.#acceptSum = 0;
      } else {
        for (let e = this.#epoch + 1; e <= epoch; e++) {
          const i = ((e % n) + n) % n;
          this.#requestSum -= this.#requests[i]!;
          this.#acceptSum -= this.#accepts[i]!;
          this.#requests[i] = 0;
          this.#accepts[i] = 0;
        }
      }
      this.#epoch = epoch;
      // The modulo of a negative epoch (times before 0) still lands in range.
      this.#slot = ((epoch % n) + n) % n;
    }
    return this.#slot;
  }

  #rejection(call: CallContext, probability: number): MeshkitError {
    return new MeshkitError(
      'ERR_LIMIT_EXCEEDED',
      `${call.service}: rejected locally by adaptive throttling (the backend accepted too little of recent work)`,
      { service: call.service, reason: 'adaptive-throttle', probability, requests: this.#requestSum, accepts: this.#acceptSum },
    );
  }
}
