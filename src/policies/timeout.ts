import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions } from '../core/options.js';

/** Options for `.timeout()`. Both default to no limit. */
export interface TimeoutOptions {
  /** Limit for each attempt, up to the response headers. Default none. */
  readonly perTry?: Duration;
  /** Limit for the whole call, retries and backoff included. Default none. */
  readonly total?: Duration;
}

/** Resolved timeouts in ms; `Infinity` means none. */
export interface TimeoutSettings {
  readonly perTry: number;
  readonly total: number;
}

export const NO_TIMEOUTS: TimeoutSettings = Object.freeze({ perTry: Infinity, total: Infinity });

const TIMEOUT_KEYS: readonly (keyof TimeoutOptions)[] = ['perTry', 'total'];

/**
 * Validates timeout options; throws `ERR_INVALID_CONFIG` naming
 * `timeout.perTry` or `timeout.total`, or an unknown key (`timeout.pertry`:
 * did you mean `perTry`?).
 */
export function resolveTimeouts(options: TimeoutOptions, option = 'timeout'): TimeoutSettings {
  const o = checkOptions(options, option, TIMEOUT_KEYS);
  const perTry = o['perTry'] === undefined ? Infinity : parsePositiveDuration(o['perTry'], `${option}.perTry`);
  const total = o['total'] === undefined ? Infinity : parsePositiveDuration(o['total'], `${option}.total`);
  if (perTry !== Infinity && total !== Infinity && perTry > total) {
    throw invalidConfig(`${option}.perTry`, `a duration <= ${option}.total (${total} ms)`, o['perTry']);
  }
  return Object.freeze({ perTry, total });
}
