import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject, readNumber } from '../core/options.js';

/** Options of the retry budget (`.retry({ budget })`). Defaults are Finagle's and Linkerd's. */
export interface RetryBudgetOptions {
  /** Retries allowed as a fraction of calls in the window. Default 0.2. */
  readonly ratio?: number;
  /** Retries always allowed per second, so low-traffic clients can still retry. Default 10. */
  readonly minPerSecond?: number;
  /** How long calls and retries count. Default `'10s'`. */
  readonly ttl?: Duration;
}

/** Resolved budget settings. */
export interface RetryBudgetSettings {
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly ttlMs: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetSettings = Object.freeze({ ratio: 0.2, minPerSecond: 10, ttlMs: 10_000 });

const BUDGET_KEYS: readonly (keyof RetryBudgetOptions)[] = ['ratio', 'minPerSecond', 'ttl'];

/**
 * Validates budget options (`0.2` is shorthand for `{ ratio: 0.2 }`); errors
 * name `<option>.<key>`, `option` defaulting to `retry.budget`.
 */
export function resolveRetryBudget(options: number | RetryBudgetOptions, option = 'retry.budget'): RetryBudgetSettings {
  if (typeof options === 'number') options = { ratio: options };
  if (!isOptionsObject(options)) throw invalidConfig(option, 'a ratio, an options object { ratio?, minPerSecond?, ttl? } or false', options);
  const o = checkOptions(options, option, BUDGET_KEYS);
  const ratio = readNumber(o['ratio'], `${option}.ratio`, DEFAULT_RETRY_BUDGET.ratio, { min: 0, max: 10 });
  const minPerSecond = readNumber(o['minPerSecond'], `${option}.minPerSecond`, DEFAULT_RETRY_BUDGET.minPerSecond, { min: 0 });
  return Object.freeze({ ratio, minPerSecond, ttlMs: parsePositiveDuration(o['ttl'] ?? DEFAULT_RETRY_BUDGET.ttlMs, `${option}.ttl`) });
}

/** Buckets per window: fine enough that expiry is smooth, few enough to sum cheaply. */
const BUCKETS = 10;

/**
 * A retry budget (Finagle's RetryBudget, Linkerd's retry budgets): retries
 * may add at most `ratio` of the calls made in the last `ttl`, plus
 * `minPerSecond * ttl`. Shared by every call of a client (hedges will spend
 * from it too), so that retries never turn an outage into a multiple of the
 * load. Counters live in ring buckets rotated lazily from the caller's clock
 * reading: no timer, two array writes per call.
 */
export class RetryBudget {
  readonly #settings: RetryBudgetSettings;
  readonly #bucketMs: number;
  readonly #calls = new Float64Array(BUCKETS);
  readonly #retries = new Float64Array(BUCKETS);
  #bucketStart = Number.NEGATIVE_INFINITY;
  #index = 0;
  #callSum = 0;
  #retrySum = 0;

  constructor(settings: RetryBudgetSettings) {
    this.#settings = settings;
    this.#bucketMs = settings.ttlMs / BUCKETS;
  }

  /** Counts a call (its first attempt). */
  recordCall(now: number): void {
    this.#rotate(now);
    this.#calls[this.#index] = (this.#calls[this.#index] as number) + 1;
    this.#callSum++;
  }

  /** Takes a retry from the budget if one is left; false when the budget is spent. */
  tryRetry(now: number): boolean {
    if (!this.canRetry(now)) return false;
    this.#retries[this.#index] = (this.#retries[this.#index] as number) + 1;
    this.#retrySum++;
    return true;
  }

  /**
   * Whether a retry is left now, without taking it: {@link tryRetry} at the
   * same `now` then succeeds. For a check before a wait (a backoff) or before
   * spending another budget too (a hedge spends this one and the retry
   * budget), so a refusal elsewhere spends nothing here.
   */
  canRetry(now: number): boolean {
    this.#rotate(now);
    return this.#retrySum + 1 <= this.#allowed();
  }

  /** Retries left now (for status pages). */
  remaining(now: number): number {
    this.#rotate(now);
    return Math.max(0, Math.floor(this.#allowed() - this.#retrySum));
  }

  /** Retries the window allows in all: the floor plus the ratio of its calls. */
  #allowed(): number {
    return this.#settings.minPerSecond * (this.#settings.ttlMs / 1000) + this.#settings.ratio * this.#callSum;
  }

  #rotate(now: number): void {
    if (now < this.#bucketStart + this.#bucketMs) return;
    const steps = this.#bucketStart === Number.NEGATIVE_INFINITY ? BUCKETS : Math.floor((now - this.#bucketStart) / this.#bucketMs);
    for (let i = 0; i < Math.min(steps, BUCKETS); i++) {
      this.#index = (this.#index + 1) % BUCKETS;
      this.#callSum -= this.#calls[this.#index] as number;
      this.#retrySum -= this.#retries[this.#index] as number;
      this.#calls[this.#index] = 0;
      this.#retries[this.#index] = 0;
    }
    this.#bucketStart = steps >= BUCKETS || this.#bucketStart === Number.NEGATIVE_INFINITY
      ? now
      : this.#bucketStart + steps * this.#bucketMs;
  }
}
