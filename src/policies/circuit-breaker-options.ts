import { BREAKER_RULE_KEYS, DEFAULT_BREAKER_RULE, readBreakerRule, type BreakerRule } from '../breaker/options.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readString } from '../core/options.js';

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
   * Measured on `clock`.
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
  /** The policy's name, in errors and events. Default `'circuit-breaker'`. */
  readonly name?: string;
  /**
   * Every time the breaker reads or waits for: the window's bucket rotation,
   * the reset timeout (open to half-open) and `retryAfterMs` (a
   * `VirtualClock` in tests and simulations). Default the system clock.
   */
  readonly clock?: Clock;
}

/** Resolved, validated {@link CircuitBreakerOptions}. */
export interface CircuitBreakerSettings extends BreakerRule {
  readonly name: string;
  readonly clock: Clock;
}

/** The defaults of {@link CircuitBreakerOptions}. */
export const DEFAULT_CIRCUIT_BREAKER = Object.freeze({
  ...DEFAULT_BREAKER_RULE,
  name: 'circuit-breaker',
});

/** The keys {@link CircuitBreakerOptions} accepts. */
export const CIRCUIT_BREAKER_KEYS: readonly (keyof CircuitBreakerOptions)[] = [...BREAKER_RULE_KEYS, 'name', 'clock'];

/**
 * Validates options at creation; errors name `circuitBreaker.<field>`.
 * Unknown keys (opossum's `errorThresholdPercentage`, say) are refused with
 * the nearest known one. The rule's fields are read by `readBreakerRule`, as
 * for the per-endpoint breakers.
 */
export function resolveCircuitBreaker(options: CircuitBreakerOptions): CircuitBreakerSettings {
  const option = 'circuitBreaker';
  const o = checkOptions(options, option, CIRCUIT_BREAKER_KEYS);
  const rule = readBreakerRule(o, option);
  const name = readString(o['name'], `${option}.name`, DEFAULT_CIRCUIT_BREAKER.name);
  const clock = (o['clock'] ?? systemClock) as Clock;
  if (clock === null || typeof clock !== 'object' || typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    throw invalidConfig(`${option}.clock`, 'a Clock', clock);
  }
  return Object.freeze({ ...rule, name, clock });
}
