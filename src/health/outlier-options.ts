import { parseDuration, parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readNumber } from '../core/options.js';

/** Options of `.outlierDetection()`. Defaults are Envoy's and gRPC A50's. */
export interface OutlierDetectionOptions {
  /** Gateway failures in a row (connect errors, resets, timeouts, 502/503/504) that eject an endpoint; any other outcome, a 500 included, breaks the run. Default 5; 0 disables the rule. */
  readonly consecutiveGatewayFailures?: number;
  /**
   * Failures in a row that eject an endpoint, counting every 5xx response
   * (500 included) as well as every gateway failure (connect errors, resets,
   * timeouts): Envoy's `consecutive_5xx`. A success or a 4xx breaks the run.
   * It keeps its own run, apart from `consecutiveGatewayFailures`'s.
   *
   * Default 0 (off). Envoy enables it at 5, but a 500 is often one request's
   * problem (a bug hit by one input) rather than a sick host, and ejecting on
   * it moves that request's problem onto the fleet; the success-rate rule
   * already catches a host whose 500s stand out from the others'. Enable it
   * (5 is Envoy's value) when a failing host answers 500 rather than 503 or
   * not at all.
   */
  readonly consecutive5xx?: number;
  /** How often ejections are reviewed and success rates evaluated. Default `'10s'`. */
  readonly interval?: Duration;
  /** Ejection time, multiplied by how often the endpoint was ejected. Default `'30s'`. */
  readonly baseEjectionTime?: Duration;
  /** Longest ejection. Default `'300s'`. */
  readonly maxEjectionTime?: Duration;
  /** Most endpoints ejected at once, in percent; at least one endpoint may always be ejected. Default 10. */
  readonly maxEjectionPercent?: number;
  /**
   * Success-rate ejection: among at least `minimumHosts` endpoints with at least
   * `requestVolume` requests in the interval, eject those below
   * mean - `stdevFactor` * stdev. Defaults 5, 100, 1.9; `false` disables it.
   */
  readonly successRate?: false | { readonly minimumHosts?: number; readonly requestVolume?: number; readonly stdevFactor?: number };
  /** Below this percentage of healthy endpoints, health is ignored and every endpoint is used (panic mode). Default 50; 0 disables. */
  readonly panicThreshold?: number;
  /**
   * Slow start for new and returning endpoints: weight scaled by
   * max(minWeightPercent / 100, (t / window)^(1 / aggression)) during `window`.
   * Default off; Envoy's defaults when enabled: aggression 1, minWeightPercent 10.
   */
  readonly slowStart?: false | { readonly window: Duration; readonly aggression?: number; readonly minWeightPercent?: number };
}

/** Resolved outlier detection settings (milliseconds, fractions). */
export interface OutlierSettings {
  readonly consecutiveGatewayFailures: number;
  readonly consecutive5xx: number;
  readonly intervalMs: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
  readonly successRate: { readonly minimumHosts: number; readonly requestVolume: number; readonly stdevFactor: number } | undefined;
  readonly panicThreshold: number;
  readonly slowStart: { readonly windowMs: number; readonly aggression: number; readonly minWeight: number } | undefined;
}

function count(value: unknown, option: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  return readNumber(value, option, fallback, { min, max, integer: true });
}

function positive(value: unknown, option: string, fallback: number): number {
  return readNumber(value, option, fallback, { min: 0, minExclusive: true });
}

const OUTLIER_KEYS: readonly (keyof OutlierDetectionOptions)[] = [
  'consecutiveGatewayFailures', 'consecutive5xx', 'interval', 'baseEjectionTime', 'maxEjectionTime', 'maxEjectionPercent',
  'successRate', 'panicThreshold', 'slowStart',
];
const SUCCESS_RATE_KEYS: readonly string[] = ['minimumHosts', 'requestVolume', 'stdevFactor'];
const SLOW_START_KEYS: readonly string[] = ['window', 'aggression', 'minWeightPercent'];

/** Validates outlier detection options; errors name `outlierDetection.<option>` (unknown keys included). */
export function resolveOutlierDetection(options: OutlierDetectionOptions): OutlierSettings {
  const o = 'outlierDetection';
  const given = checkOptions(options, o, OUTLIER_KEYS);
  const baseEjectionMs = parseDuration(given['baseEjectionTime'] ?? 30_000, `${o}.baseEjectionTime`);
  const maxEjectionMs = parseDuration(given['maxEjectionTime'] ?? 300_000, `${o}.maxEjectionTime`);
  if (maxEjectionMs < baseEjectionMs) {
    throw invalidConfig(`${o}.maxEjectionTime`, `a duration >= baseEjectionTime (${baseEjectionMs} ms)`, given['maxEjectionTime']);
  }
  const rateOption = given['successRate'] ?? {};
  const rate = rateOption === false ? false : checkOptions(rateOption, `${o}.successRate`, SUCCESS_RATE_KEYS);
  const slowOption = given['slowStart'] ?? false;
  const slow = slowOption === false ? false : checkOptions(slowOption, `${o}.slowStart`, SLOW_START_KEYS);
  return Object.freeze({
    consecutiveGatewayFailures: count(given['consecutiveGatewayFailures'], `${o}.consecutiveGatewayFailures`, 5, 0),
    consecutive5xx: count(given['consecutive5xx'], `${o}.consecutive5xx`, 0, 0),
    intervalMs: parsePositiveDuration(given['interval'] ?? 10_000, `${o}.interval`),
    baseEjectionMs,
    maxEjectionMs,
    maxEjectionPercent: count(given['maxEjectionPercent'], `${o}.maxEjectionPercent`, 10, 0, 100),
    successRate: rate === false ? undefined : Object.freeze({
      minimumHosts: count(rate['minimumHosts'], `${o}.successRate.minimumHosts`, 5, 1),
      requestVolume: count(rate['requestVolume'], `${o}.successRate.requestVolume`, 100, 1),
      stdevFactor: positive(rate['stdevFactor'], `${o}.successRate.stdevFactor`, 1.9),
    }),
    panicThreshold: count(given['panicThreshold'], `${o}.panicThreshold`, 50, 0, 100),
    slowStart: slow === false ? undefined : Object.freeze({
      windowMs: parsePositiveDuration(slow['window'], `${o}.slowStart.window`),
      aggression: positive(slow['aggression'], `${o}.slowStart.aggression`, 1),
      minWeight: count(slow['minWeightPercent'], `${o}.slowStart.minWeightPercent`, 10, 1, 100) / 100,
    }),
  });
}
