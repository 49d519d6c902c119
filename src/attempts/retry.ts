import { fullJitterBackoff } from '../core/backoff.js';
import { parseDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readNumber } from '../core/options.js';
import { DEFAULT_RETRYABLE_STATUSES } from '../transports/http-classifier.js';
import { DEFAULT_RETRY_BUDGET, resolveRetryBudget, type RetryBudgetOptions, type RetryBudgetSettings } from './retry-budget.js';

/** Options for `.retry()`. */
export interface RetryOptions {
  /** Total attempts, the first one included (1 disables retries). Default 2. */
  readonly attempts?: number;
  /** Full-jitter exponential backoff between attempts. Defaults base `'25ms'`, cap `'250ms'` (Envoy's). */
  readonly backoff?: { readonly base?: Duration; readonly cap?: Duration };
  /** HTTP statuses retried (on another endpoint). Default `[502, 503, 504]`; add 429 to retry rate-limited answers. */
  readonly statuses?: readonly number[];
  /**
   * The longest `Retry-After` honoured. A retried 429 or 503 that carries
   * `Retry-After` waits at least that long before the next attempt (it
   * replaces a shorter backoff); one asking for longer than this, or for
   * longer than the deadline leaves, is not retried: the caller gets that
   * response. Default `'10s'`.
   */
  readonly maxRetryAfter?: Duration;
  /**
   * Retry budget shared by the client's calls: a ratio (`0.2`), options, or
   * `false` for none. Default: 20 % of calls plus 10 per second over 10 s (Finagle).
   */
  readonly budget?: number | RetryBudgetOptions | false;
}

/** Resolved retry settings. */
export interface RetrySettings {
  readonly attempts: number;
  readonly baseMs: number;
  readonly capMs: number;
  readonly statuses: readonly number[];
  /** The longest Retry-After honoured, ms. */
  readonly maxRetryAfterMs: number;
  /** Undefined when retries are not budgeted. */
  readonly budget: RetryBudgetSettings | undefined;
}

/** Retries on by default: at most one retry, so the worst case doubles load, never more. */
export const DEFAULT_RETRY: RetrySettings = Object.freeze({
  attempts: 2, baseMs: 25, capMs: 250, statuses: DEFAULT_RETRYABLE_STATUSES, maxRetryAfterMs: 10_000, budget: DEFAULT_RETRY_BUDGET,
});

const RETRY_KEYS: readonly (keyof RetryOptions)[] = ['attempts', 'backoff', 'statuses', 'maxRetryAfter', 'budget'];
const BACKOFF_KEYS: readonly string[] = ['base', 'cap'];

/** Validates retry options; throws `ERR_INVALID_CONFIG` naming `retry.<option>` (unknown keys included). */
export function resolveRetry(options: RetryOptions | false): RetrySettings {
  if (options === false) return Object.freeze({ ...DEFAULT_RETRY, attempts: 1 });
  const o = checkOptions(options, 'retry', RETRY_KEYS);
  const attempts = readNumber(o['attempts'], 'retry.attempts', DEFAULT_RETRY.attempts, { min: 1, max: 10, integer: true });
  const backoff = o['backoff'] === undefined ? {} : checkOptions(o['backoff'], 'retry.backoff', BACKOFF_KEYS);
  const baseMs = parseDuration(backoff['base'] ?? DEFAULT_RETRY.baseMs, 'retry.backoff.base');
  const capMs = parseDuration(backoff['cap'] ?? Math.max(DEFAULT_RETRY.capMs, baseMs), 'retry.backoff.cap');
  if (capMs < baseMs) throw invalidConfig('retry.backoff.cap', `a duration >= retry.backoff.base (${baseMs} ms)`, backoff['cap']);
  const statuses = o['statuses'] ?? DEFAULT_RETRY.statuses;
  // Array.from turns a sparse array's holes into undefined, which `every` alone would skip (and the copy keep).
  if (!Array.isArray(statuses) || !Array.from(statuses as unknown[]).every((s) => Number.isInteger(s) && (s as number) >= 100 && (s as number) <= 599)) {
    throw invalidConfig('retry.statuses', 'an array of HTTP status codes (100-599)', statuses);
  }
  const maxRetryAfterMs = parseDuration(o['maxRetryAfter'] ?? DEFAULT_RETRY.maxRetryAfterMs, 'retry.maxRetryAfter');
  const budgetOption = o['budget'] as RetryOptions['budget'];
  const budget = budgetOption === false ? undefined : budgetOption === undefined ? DEFAULT_RETRY_BUDGET : resolveRetryBudget(budgetOption);
  return Object.freeze({ attempts, baseMs, capMs, statuses: Object.freeze([...(statuses as number[])]), maxRetryAfterMs, budget });
}

/** The full-jitter delay before retry number `retry` (from 1). */
export function backoffDelay(settings: RetrySettings, retry: number, random: number): number {
  return fullJitterBackoff(retry, settings.baseMs, settings.capMs, random);
}
