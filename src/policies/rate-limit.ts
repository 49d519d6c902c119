import { AbortWatch } from '../core/abort-watch.js';
import type { AdmissionEnvironment, AdmissionGate } from '../core/admission.js';
import type { CallContext } from '../core/call-context.js';
import { LinkedQueue } from '../core/linked-queue.js';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { parseDuration, parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig, MeshkitError } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import type { Invoke, Policy } from '../core/policy.js';

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  /** Calls allowed per `per` on average (tokens added per `per`): a number > 0. Required. */
  readonly rate: number;
  /** The period `rate` is counted over. Default `'1s'`. */
  readonly per?: Duration;
  /**
   * Calls allowed at once after a quiet spell (the bucket's size): a number >= 1.
   * Default `rate` (at least 1): a full second's worth when `per` is 1 s.
   */
  readonly burst?: number;
  /**
   * How long a call may wait for a token instead of being rejected. Waiting
   * calls are served in arrival order; a call whose wait would exceed
   * `maxWait` or run past its deadline is rejected at once. Default 0: never wait.
   */
  readonly maxWait?: Duration;
  /**
   * Time source; must be the client's clock, since calls' deadlines are read on
   * it. Default the system clock (as the client's). Tests pass a `VirtualClock`.
   */
  readonly clock?: Clock;
}

/** Resolved rate limit settings. */
export interface RateLimitSettings {
  readonly rate: number;
  readonly perMs: number;
  readonly burst: number;
  readonly maxWaitMs: number;
}

/** Defaults of {@link rateLimit} (`rate` has none; `burst` defaults to max(1, rate)). */
export const DEFAULT_RATE_LIMIT = Object.freeze({ perMs: 1000, maxWaitMs: 0 });

/**
 * A rate limit's state for `client.snapshot()` and status pages. Plain JSON
 * with stable keys (see docs/status-page.md); a type alias so it is a `Record<string, unknown>`.
 */
export type RateLimitSnapshot = {
  readonly kind: 'rate-limit';
  /** Tokens in the bucket now (fractional, 0 to `burst`). */
  readonly tokens: number;
  readonly burst: number;
  /** Tokens added per `perMs`. */
  readonly rate: number;
  readonly perMs: number;
  readonly maxWaitMs: number;
  /** Calls waiting for a token now. */
  readonly waiting: number;
  /** Calls refused with `ERR_LIMIT_EXCEEDED` since creation. */
  readonly rejected: number;
};

/** A rate limit policy: a {@link Policy} with its bucket's level and a `close()`. */
export interface RateLimitPolicy extends Policy {
  readonly settings: RateLimitSettings;
  /** Tokens in the bucket now (fractional, from 0 to `burst`). */
  tokens(): number;
  /** Calls waiting for a token now. */
  readonly waiting: number;
  /** The bucket's level, settings and refusals as plain JSON, for `client.snapshot()`. Reads without refilling. */
  snapshot(): RateLimitSnapshot;
  /**
   * Rejects every waiting call with `ERR_CLIENT_CLOSED` and clears the timer;
   * afterwards calls that would wait are rejected the same way (calls that find
   * a token still pass through, to be refused by the closed client).
   * Idempotent. The client calls it from `close()`.
   */
  close(): void;
  /** A new, full bucket with the same settings and clock (each built client gets one; see `Policy.clone`). */
  clone(): RateLimitPolicy;
}

const RATE_LIMIT_KEYS: readonly (keyof RateLimitOptions)[] = ['rate', 'per', 'burst', 'maxWait', 'clock'];

/** Validates {@link RateLimitOptions}; errors name `rateLimit.<option>` (unknown keys included). */
export function resolveRateLimit(options: RateLimitOptions): RateLimitSettings {
  checkOptions(options, 'rateLimit', RATE_LIMIT_KEYS);
  const { rate } = options;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) throw invalidConfig('rateLimit.rate', 'a number > 0', rate);
  const perMs = parsePositiveDuration(options.per ?? DEFAULT_RATE_LIMIT.perMs, 'rateLimit.per');
  const burst = options.burst ?? Math.max(1, rate);
  if (typeof burst !== 'number' || !Number.isFinite(burst) || burst < 1) throw invalidConfig('rateLimit.burst', 'a number >= 1', burst);
  const maxWaitMs = parseDuration(options.maxWait ?? DEFAULT_RATE_LIMIT.maxWaitMs, 'rateLimit.maxWait');
  const clock = options.clock as unknown;
  if (clock !== undefined && (clock === null || typeof clock !== 'object'
    || !(['now', 'setTimeout', 'clearTimeout'] as const).every((m) => typeof (clock as Clock)[m] === 'function'))) {
    throw invalidConfig('rateLimit.clock', 'a clock with now, setTimeout and clearTimeout', clock);
  }
  return Object.freeze({ rate, perMs, burst, maxWaitMs });
}

/**
 * A token bucket for one client (Envoy's local rate limit filter, Polly's and
 * Guava's rate limiters): the bucket holds up to `burst` tokens, gains `rate`
 * tokens per `per`, and each call takes one. A call that finds no token is
 * rejected with `ERR_LIMIT_EXCEEDED`, `details: { reason: 'rate-limit',
 * retryAfterMs, rate, per, burst, service }` (`retryAfterMs`: when the next
 * token is due), or, with `maxWait`, waits its turn for one.
 *
 * Over any interval of length t, at most `burst + rate * t / per` calls pass.
 * The bucket starts full.
 *
 * - Refill is lazy, computed from the clock when a call arrives: no timer on
 *   the success path, which costs one clock read and a few arithmetic
 *   operations and allocates nothing.
 * - Waiting (`maxWait` > 0): calls wait in arrival order, and a newcomer
 *   takes a token only when nobody waits. One clock timer, armed for the
 *   moment the next token accrues, serves the whole queue; when it fires the
 *   bucket is refilled from the clock and as many waiters start as there are
 *   tokens, so a late timer never lets more through than the bucket allows.
 *   The timer is ref'd (like a retry's backoff: the wait is all the call is
 *   doing) and exists only while calls wait. A waiter whose signal aborts
 *   leaves with `ERR_ABORTED`. A wait that would outlast `maxWait` or the
 *   call's deadline (estimated from the calls ahead of it) is not started: the
 *   call is rejected at once.
 *
 * Defaults: `per` 1 s, `burst` = `rate` (at least 1), `maxWait` 0 (never wait).
 * Place it outermost among the admission policies, after adaptive throttling
 * (see docs/policies/rate-limit.md). One instance is one bucket: a builder
 * gives every client it builds its own (`clone()`); to share one rate between
 * clients on purpose, pass `.policy(() => shared)`.
 */
export function rateLimit(options: RateLimitOptions): RateLimitPolicy {
  return new RateLimit(resolveRateLimit(options), options.clock ?? systemClock);
}

/** A token is spent when taken: nothing to give back. */
function noRelease(): void {}

/** Tolerance for float rounding in the refill, so that a token due now is not missed by 1 ulp. */
const EPSILON = 1e-9;

/** A call waiting for a token. */
class Waiter {
  next: Waiter | undefined = undefined;
  prev: Waiter | undefined = undefined;

  constructor(
    readonly call: CallContext,
    readonly invoke: Invoke<unknown>,
    readonly resolve: (value: Promise<unknown>) => void,
    readonly reject: (error: unknown) => void,
  ) {}
}

class RateLimit implements RateLimitPolicy {
  readonly name = 'rate-limit';
  readonly settings: RateLimitSettings;
  readonly #clock: Clock;
  /** Tokens gained per ms. */
  readonly #perMsRate: number;
  // Initialized as numbers: V8 then stores later writes in place instead of boxing each (a field that starts undefined does).
  #tokens = 0;
  #stamp = 0;
  readonly #queue = new LinkedQueue<Waiter>();
  /** One listener per caller signal, however many queued calls share it (no MaxListenersExceededWarning). */
  readonly #aborts = new AbortWatch<Waiter>((waiter, reason) => {
    if (!this.#remove(waiter)) return;
    waiter.reject(abortedError(waiter.call, reason));
    if (this.#queue.head === undefined) this.#disarm();
  });
  #timer: TimerHandle | undefined = undefined;
  #closed = false;
  #rejected = 0;
  readonly #fire = (): void => this.#onTimer();

  constructor(settings: RateLimitSettings, clock: Clock) {
    this.settings = settings;
    this.#clock = clock;
    this.#perMsRate = settings.rate / settings.perMs;
    this.#tokens = settings.burst;
    this.#stamp = clock.now();
  }

  get waiting(): number {
    return this.#queue.size;
  }

  tokens(): number {
    this.#refill(this.#clock.now());
    return this.#tokens;
  }

  snapshot(): RateLimitSnapshot {
    // The level a refill at this moment would give, computed aside: reading must not move the bucket's stamp.
    const elapsed = Math.max(0, this.#clock.now() - this.#stamp);
    const tokens = Math.min(this.settings.burst, this.#tokens + elapsed * this.#perMsRate);
    const { burst, rate, perMs, maxWaitMs } = this.settings;
    return { kind: 'rate-limit', tokens, burst, rate, perMs, maxWaitMs, waiting: this.#queue.size, rejected: this.#rejected };
  }

  wrap<T>(next: Invoke<T>): Invoke<T> {
    return (call) => {
      const now = this.#clock.now();
      if (this.#take(now)) return next(call);
      return this.#wait(next as Invoke<unknown>, call, now) as Promise<T>;
    };
  }

  /**
   * Without `maxWait` nothing ever queues, so the limit can run as the
   * client's admission gate: take a token or refuse, at the call's admission
   * time when the clocks agree.
   */
  admission(environment: AdmissionEnvironment): AdmissionGate | undefined {
    if (this.settings.maxWaitMs !== 0) return undefined;
    const sameClock = environment.clock === this.#clock;
    return {
      admit: (call) => {
        const now = sameClock ? call.admittedAt : this.#clock.now();
        if (this.#take(now)) return undefined;
        this.#rejected++;
        return limitError(call, Math.ceil(this.#waitFor(1)), this.settings);
      },
      release: noRelease,
    };
  }

  /** Refills to `now` and takes a token if one is there and nobody waits (waiting calls go first). */
  #take(now: number): boolean {
    this.#refill(now);
    if (this.#tokens >= 1 - EPSILON && this.#queue.head === undefined) {
      this.#tokens -= 1;
      return true;
    }
    return false;
  }

  /** ms until the bucket holds `tokens` more than now. */
  #waitFor(tokens: number): number {
    return Math.max(0, (tokens - this.#tokens) / this.#perMsRate);
  }

  clone(): RateLimitPolicy {
    return new RateLimit(this.settings, this.#clock);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#queue.head !== undefined) {
      const waiter = this.#queue.head;
      this.#remove(waiter);
      waiter.reject(closedError(waiter.call));
    }
    this.#disarm();
  }

  #refill(now: number): void {
    const elapsed = now - this.#stamp;
    if (elapsed <= 0) return;
    this.#stamp = now;
    const tokens = this.#tokens + elapsed * this.#perMsRate;
    this.#tokens = tokens < this.settings.burst ? tokens : this.settings.burst;
  }

  /** No token for this call now: wait in line if allowed, else reject. */
  #wait(next: Invoke<unknown>, call: CallContext, now: number): Promise<unknown> {
    // Its token is the one after those of every call already waiting.
    const wait = this.#waitFor(this.#queue.size + 1);
    if (this.settings.maxWaitMs === 0 || wait > this.settings.maxWaitMs || now + wait >= call.deadline) {
      this.#rejected++;
      return Promise.reject(limitError(call, Math.ceil(wait), this.settings));
    }
    if (this.#closed) return Promise.reject(closedError(call));
    const signal = call.signal;
    if (signal?.aborted === true) return Promise.reject(abortedError(call, signal.reason));
    return new Promise<unknown>((resolve, reject) => {
      const waiter = new Waiter(call, next, resolve, reject);
      this.#queue.push(waiter);
      if (signal !== undefined) this.#aborts.watch(signal, waiter);
      if (this.#timer === undefined) this.#arm();
    });
  }

  /** Unlinks a waiter and its abort listener; false when it already left. */
  #remove(waiter: Waiter): boolean {
    if (!this.#queue.remove(waiter)) return false;
    if (waiter.call.signal !== undefined) this.#aborts.unwatch(waiter.call.signal, waiter);
    return true;
  }

  /** Arms the one timer for the moment the next token accrues (the bucket was just refilled). */
  #arm(): void {
    const delay = Math.max(0, (1 - this.#tokens) / this.#perMsRate);
    this.#timer = this.#clock.setTimeout(this.#fire, delay, true);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Admits as many waiting calls as there are tokens now, in order. Tokens are
   * counted at the time the timer really fired, so a late timer never lets
   * more through than the bucket allows; an early one simply re-arms.
   */
  #onTimer(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    this.#refill(now);
    let waiter = this.#queue.head;
    while (waiter !== undefined && this.#tokens >= 1 - EPSILON) {
      this.#tokens -= 1;
      this.#remove(waiter);
      let result: Promise<unknown>;
      try {
        result = waiter.invoke(waiter.call);
      } catch (error) {
        result = Promise.reject(error);
      }
      waiter.resolve(result);
      waiter = this.#queue.head;
    }
    if (this.#queue.head !== undefined) this.#arm();
  }
}

function limitError(call: CallContext, retryAfterMs: number, settings: RateLimitSettings): MeshkitError {
  return new MeshkitError(
    'ERR_LIMIT_EXCEEDED',
    `${call.service}: rate limit of ${settings.rate} per ${settings.perMs} ms reached; next token in ${retryAfterMs} ms`,
    { service: call.service, reason: 'rate-limit', retryAfterMs, rate: settings.rate, per: settings.perMs, burst: settings.burst },
  );
}

function abortedError(call: CallContext, reason: unknown): MeshkitError {
  return new MeshkitError('ERR_ABORTED', `${call.service}: the call was aborted`, { service: call.service }, { cause: reason });
}

function closedError(call: CallContext): MeshkitError {
  return new MeshkitError('ERR_CLIENT_CLOSED', `${call.service}: the client is closed`, { service: call.service });
}
