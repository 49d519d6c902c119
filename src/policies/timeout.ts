import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';

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

/** Validates timeout options; throws `ERR_INVALID_CONFIG` naming `timeout.perTry` or `timeout.total`. */
export function resolveTimeouts(options: TimeoutOptions, option = 'timeout'): TimeoutSettings {
  if (options === null || typeof options !== 'object') throw invalidConfig(option, '{ perTry?, total? }', options);
  const perTry = options.perTry === undefined ? Infinity : parsePositiveDuration(options.perTry, `${option}.perTry`);
  const total = options.total === undefined ? Infinity : parsePositiveDuration(options.total, `${option}.total`);
  if (perTry !== Infinity && total !== Infinity && perTry > total) {
    throw invalidConfig(`${option}.perTry`, `a duration <= ${option}.total (${total} ms)`, options.perTry);
  }
  return Object.freeze({ perTry, total });
}
