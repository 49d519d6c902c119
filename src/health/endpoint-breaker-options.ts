import { BREAKER_RULE_KEYS, readBreakerRule, type BreakerRule } from '../breaker/options.js';
import type { Duration } from '../core/duration.js';
import { checkOptions } from '../core/options.js';

/**
 * Options of `.endpointCircuitBreakers()`: one breaker per endpoint,
 * fed with every attempt to that endpoint. The same knobs and defaults as the
 * service-level `.circuitBreaker()` (Hystrix's window, volume and 5 s break);
 * the clock is the client's.
 */
export interface EndpointCircuitBreakerOptions {
  /**
   * An endpoint's breaker opens when the share of its failed attempts in the
   * rolling window exceeds this fraction (strictly greater). A fraction in
   * [0, 1). Default `0.5` (opossum's and Hystrix's 50 %).
   */
  readonly errorThreshold?: number;
  /**
   * Attempts the endpoint's window must hold before its breaker may open, so a
   * quiet endpoint is not cut off by two unlucky attempts. An integer >= 0.
   * Default `20` (Hystrix's `requestVolumeThreshold`).
   */
  readonly volumeThreshold?: number;
  /**
   * How long an open endpoint stays out of rotation before it is half-open
   * (back in rotation on trial: the first attempt outcome then closes or
   * re-opens it). Default `'5s'` (Hystrix, Polly). Measured on the client's
   * clock.
   */
  readonly resetTimeout?: Duration;
  /** Length of the rolling window. Default `'10s'` (opossum, Hystrix). */
  readonly window?: Duration;
  /**
   * Buckets the window is split into. An integer >= 1. Default `10`. Every
   * endpoint breaker (of every client) with the same bucket length shares one
   * rotation timer.
   */
  readonly buckets?: number;
}

/** Resolved {@link EndpointCircuitBreakerOptions}. */
export type EndpointCircuitBreakerSettings = BreakerRule;

/** `name` and `clock` belong to the service-level breaker: refusing them (and typos) beats ignoring them. */
const ENDPOINT_BREAKER_KEYS: readonly (keyof EndpointCircuitBreakerOptions)[] = BREAKER_RULE_KEYS;

/** Validates options; errors name `endpointCircuitBreakers.<option>` (unknown keys included). */
export function resolveEndpointCircuitBreakers(options: EndpointCircuitBreakerOptions): EndpointCircuitBreakerSettings {
  const option = 'endpointCircuitBreakers';
  return Object.freeze(readBreakerRule(checkOptions(options, option, ENDPOINT_BREAKER_KEYS), option));
}
