import { parsePositiveDuration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { readNumber } from '../core/options.js';

/**
 * The rule every meshkit breaker follows, resolved: when it opens
 * (`errorThreshold`, `volumeThreshold`), what it counts over (`windowMs` in
 * `buckets`) and how long it stays open (`resetTimeoutMs`). Both the
 * service-level `circuitBreaker()` and the per-endpoint breakers read it
 * with {@link readBreakerRule}.
 */
export interface BreakerRule {
  /** Opens when failures / calls over the window exceed this fraction, in [0, 1). */
  readonly errorThreshold: number;
  /** Calls the window must hold before it may open, an integer >= 0. */
  readonly volumeThreshold: number;
  /** How long it stays open before the half-open trial, ms. */
  readonly resetTimeoutMs: number;
  /** Length of the rolling window, ms. */
  readonly windowMs: number;
  /** Buckets the window is split into, an integer >= 1. */
  readonly buckets: number;
}

/**
 * The defaults of {@link BreakerRule}: Hystrix's and opossum's 50 % and 10 s
 * window in 10 buckets, Hystrix's volume of 20, Hystrix's and Polly's 5 s break.
 */
export const DEFAULT_BREAKER_RULE: BreakerRule = Object.freeze({
  errorThreshold: 0.5,
  volumeThreshold: 20,
  resetTimeoutMs: 5_000,
  windowMs: 10_000,
  buckets: 10,
});

/** The option keys {@link readBreakerRule} reads (each breaker adds its own). */
export const BREAKER_RULE_KEYS = Object.freeze(['errorThreshold', 'volumeThreshold', 'resetTimeout', 'window', 'buckets'] as const);

/**
 * Reads the rule's options from an object already checked by `checkOptions`
 * (unknown keys refused there). Errors are `ERR_INVALID_CONFIG` naming
 * `<option>.<field>`. `errorThreshold` is a fraction: percentages such as
 * `50` are refused, so `0.5` and `50` can never be confused.
 */
export function readBreakerRule(o: Readonly<Record<string, unknown>>, option: string): BreakerRule {
  const d = DEFAULT_BREAKER_RULE;
  const errorThreshold = o['errorThreshold'] ?? d.errorThreshold;
  if (typeof errorThreshold !== 'number' || !(errorThreshold >= 0 && errorThreshold < 1)) {
    throw invalidConfig(`${option}.errorThreshold`, 'a fraction in [0, 1) such as 0.5 (for 50 %)', errorThreshold);
  }
  const volumeThreshold = readNumber(o['volumeThreshold'], `${option}.volumeThreshold`, d.volumeThreshold, { min: 0, integer: true });
  // parseDuration bounds both by the clock's timer limit (the reset timeout is one timer).
  const resetTimeoutMs = parsePositiveDuration(o['resetTimeout'] ?? d.resetTimeoutMs, `${option}.resetTimeout`);
  const windowMs = parsePositiveDuration(o['window'] ?? d.windowMs, `${option}.window`);
  const buckets = readNumber(o['buckets'], `${option}.buckets`, d.buckets, { min: 1, integer: true });
  if (windowMs / buckets < 1) {
    throw invalidConfig(`${option}.buckets`, `at most ${Math.floor(windowMs)} (buckets of at least 1 ms)`, buckets);
  }
  return { errorThreshold, volumeThreshold, resetTimeoutMs, windowMs, buckets };
}
