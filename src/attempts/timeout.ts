import { parseDurationOrInfinity, parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions } from '../core/options.js';

/** undici's own body timeout, used when neither `bodyTimeout` nor `perTry` is set. */
export const UNDICI_BODY_TIMEOUT_MS = 300_000;

/** Options for `.timeout()`. `perTry` and `total` default to no limit. */
export interface TimeoutOptions {
  /** Limit for each attempt, up to the response headers. Default none. */
  readonly perTry?: Duration;
  /** Limit for the whole call, retries, backoff and the response body included. Default none. */
  readonly total?: Duration;
  /**
   * Longest time the response body may go without a byte while the caller
   * reads it (a stall); then the body fails with `ERR_TIMEOUT`, its
   * connection is closed and the stall counts against the endpoint. A body
   * that keeps flowing is never cut by it. Checked on undici's coarse timers:
   * a stall is noticed up to about 1 s after this; from `perTry` up, undici
   * gets at least `perTry` + 600 ms (one timer per connection for headers
   * and body, see transports/undici-timeouts.ts). `Infinity` turns it off.
   * Default: `perTry` when set, else 300 s (undici's default).
   */
  readonly bodyTimeout?: Duration;
}

/** Resolved timeouts in ms; `Infinity` means none. */
export interface TimeoutSettings {
  readonly perTry: number;
  readonly total: number;
  /** The body stall bound (see {@link TimeoutOptions.bodyTimeout}); `Infinity` when off. */
  readonly bodyTimeout: number;
}

export const NO_TIMEOUTS: TimeoutSettings = Object.freeze({ perTry: Infinity, total: Infinity, bodyTimeout: UNDICI_BODY_TIMEOUT_MS });

const TIMEOUT_KEYS: readonly string[] = ['perTry', 'total', 'bodyTimeout'];

/**
 * Validates timeout options; throws `ERR_INVALID_CONFIG` naming
 * `timeout.perTry`, `timeout.total`, `timeout.bodyTimeout`, or an unknown key
 * (`timeout.pertry`: did you mean `perTry`?).
 */
export function resolveTimeouts(options: TimeoutOptions, option = 'timeout'): TimeoutSettings {
  const given = checkOptions(options, option, TIMEOUT_KEYS);
  const perTry = given['perTry'] === undefined ? Infinity : parsePositiveDuration(given['perTry'], `${option}.perTry`);
  const total = given['total'] === undefined ? Infinity : parsePositiveDuration(given['total'], `${option}.total`);
  if (perTry !== Infinity && total !== Infinity && perTry > total) {
    throw invalidConfig(`${option}.perTry`, `a duration <= ${option}.total (${total} ms)`, given['perTry']);
  }
  let bodyTimeout = perTry === Infinity ? UNDICI_BODY_TIMEOUT_MS : perTry;
  if (given['bodyTimeout'] !== undefined) {
    bodyTimeout = parseDurationOrInfinity(given['bodyTimeout'], `${option}.bodyTimeout`);
    if (bodyTimeout <= 0) throw invalidConfig(`${option}.bodyTimeout`, 'a duration > 0, or Infinity for none', given['bodyTimeout']);
  }
  return Object.freeze({ perTry, total, bodyTimeout });
}
