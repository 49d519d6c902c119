import { systemClock, type Clock } from '../core/clock.js';
import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readNumber, readString } from '../core/options.js';

/**
 * Options of {@link circuitBreaker}. Every option is optional; the defaults
 * follow Hystrix and opossum for the window, Hystrix's `requestVolumeThreshold`
 * for the volume and Polly's and Hystrix's 5 s for the break duration.
 */
export interface CircuitBreakerOptions {
  /**
   * The breaker opens when the share of failed calls in the rolling window
   * exceeds this fraction (strictly greater). A fraction in [0, 1): `0.5`
   * means "more than half failed". Default `0.5` (opossum's and Hystrix's
   * 50 %). Percentages such as `50` are refused, so `0.5` and `50` can never
   * be confused.
   */
  readonly errorThreshold?: number;
  /**
   * Calls the window must hold before the breaker may open at all, so that
   * two failures out of three calls do not cut a quiet service off. An
   * integer >= 0. Default `20` (Hystrix's `requestVolumeThreshold`; opossum's
   * own default of 0 opens on the very first failure).
   */
  readonly volumeThreshold?: number;
  /**
   * How long the breaker stays open before it lets one trial call through
   * (half-open). The trial's success closes the breaker; its failure opens
   * it again for another `resetTimeout`. Default `'5s'` (Hystrix's
   * `sleepWindowInMilliseconds`, Polly's `BreakDuration`; opossum's is 30 s).
   * Measured in real time by opossum, even when a `clock` is given.
   */
  readonly resetTimeout?: Duration;
  /** Length of the rolling window that failures and calls are counted over. Default `'10s'` (opossum, Hystrix). */
  readonly window?: Duration;
  /**
   * Buckets the window is split into; the oldest bucket is dropped every
   * `window / buckets`. An integer >= 1. Default `10` (opossum, Hystrix).
   * Breakers with the same bucket length share one rotation timer.
   */
  readonly buckets?: number;
  /** The policy's name, also the opossum breaker's name. Default `'circuit-breaker'`. */
  readonly name?: string;
  /**
   * Drives the window's bucket rotation (a `VirtualClock` in tests). Default
   * the system clock. opossum's reset timeout and latencies use real time.
   */
  readonly clock?: Clock;
}

/** Resolved, validated {@link CircuitBreakerOptions}. */
export interface CircuitBreakerSettings {
  readonly errorThreshold: number;
  readonly volumeThreshold: number;
  readonly resetTimeoutMs: number;
  readonly windowMs: number;
  readonly buckets: number;
  readonly name: string;
  readonly clock: Clock;
}

/** The defaults of {@link CircuitBreakerOptions}. */
export const DEFAULT_CIRCUIT_BREAKER = Object.freeze({
  errorThreshold: 0.5,
  volumeThreshold: 20,
  resetTimeoutMs: 5_000,
  windowMs: 10_000,
  buckets: 10,
  name: 'circuit-breaker',
});

/** The keys {@link CircuitBreakerOptions} accepts. */
export const CIRCUIT_BREAKER_KEYS: readonly (keyof CircuitBreakerOptions)[] = [
  'errorThreshold', 'volumeThreshold', 'resetTimeout', 'window', 'buckets', 'name', 'clock',
];

/**
 * Validates options at creation; errors name `<option>.<field>`, where
 * `option` defaults to `'circuitBreaker'` (per-endpoint breakers pass their
 * own name and their own, smaller, set of `known` keys). Unknown keys
 * (opossum's `errorThresholdPercentage`, say) are refused with the nearest
 * known one.
 */
export function resolveCircuitBreaker(
  options: CircuitBreakerOptions, option = 'circuitBreaker', known: readonly string[] = CIRCUIT_BREAKER_KEYS,
): CircuitBreakerSettings {
  const o = checkOptions(options, option, known);
  const d = DEFAULT_CIRCUIT_BREAKER;
  const errorThreshold = o['errorThreshold'] ?? d.errorThreshold;
  if (typeof errorThreshold !== 'number' || !(errorThreshold >= 0 && errorThreshold < 1)) {
    throw invalidConfig(`${option}.errorThreshold`, 'a fraction in [0, 1) such as 0.5 (for 50 %)', errorThreshold);
  }
  const volumeThreshold = readNumber(o['volumeThreshold'], `${option}.volumeThreshold`, d.volumeThreshold, { min: 0, integer: true });
  // parseDuration bounds both by Node's timer limit (opossum passes resetTimeout to setTimeout).
  const resetTimeoutMs = parsePositiveDuration(o['resetTimeout'] ?? d.resetTimeoutMs, `${option}.resetTimeout`);
  const windowMs = parsePositiveDuration(o['window'] ?? d.windowMs, `${option}.window`);
  const buckets = readNumber(o['buckets'], `${option}.buckets`, d.buckets, { min: 1, integer: true });
  if (windowMs / buckets < 1) {
    throw invalidConfig(`${option}.buckets`, `at most ${Math.floor(windowMs)} (buckets of at least 1 ms)`, buckets);
  }
  const name = readString(o['name'], `${option}.name`, d.name);
  const clock = (o['clock'] ?? systemClock) as Clock;
  if (clock === null || typeof clock !== 'object' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    throw invalidConfig(`${option}.clock`, 'a Clock', clock);
  }
  return Object.freeze({ errorThreshold, volumeThreshold, resetTimeoutMs, windowMs, buckets, name, clock });
}
