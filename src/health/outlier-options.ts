import { parseDuration, parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';

/** Options of `.outlierDetection()`. Defaults are Envoy's and gRPC A50's. */
export interface OutlierDetectionOptions {
  /** Gateway failures in a row (connect errors, resets, timeouts, 502/503/504) that eject an endpoint. Default 5; 0 disables the rule. */
  readonly consecutiveGatewayFailures?: number;
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
  readonly intervalMs: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
  readonly successRate: { readonly minimumHosts: number; readonly requestVolume: number; readonly stdevFactor: number } | undefined;
  readonly panicThreshold: number;
  readonly slowStart: { readonly windowMs: number; readonly aggression: number; readonly minWeight: number } | undefined;
}

function count(value: unknown, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidConfig(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

function positive(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw invalidConfig(option, 'a number > 0', value);
  return value;
}

/** Validates outlier detection options; errors name `outlierDetection.<option>`. */
export function resolveOutlierDetection(options: OutlierDetectionOptions): OutlierSettings {
  const o = 'outlierDetection';
  if (options === null || typeof options !== 'object') throw invalidConfig(o, 'an options object or false', options);
  const baseEjectionMs = parseDuration(options.baseEjectionTime ?? 30_000, `${o}.baseEjectionTime`);
  const maxEjectionMs = parseDuration(options.maxEjectionTime ?? 300_000, `${o}.maxEjectionTime`);
  if (maxEjectionMs < baseEjectionMs) throw invalidConfig(`${o}.maxEjectionTime`, `a duration >= baseEjectionTime (${baseEjectionMs} ms)`, options.maxEjectionTime);
  const rate = options.successRate ?? {};
  const slow = options.slowStart ?? false;
  if (rate !== false && (rate === null || typeof rate !== 'object')) throw invalidConfig(`${o}.successRate`, 'an options object or false', rate);
  if (slow !== false && (slow === null || typeof slow !== 'object')) throw invalidConfig(`${o}.slowStart`, '{ window, aggression?, minWeightPercent? } or false', slow);
  return Object.freeze({
    consecutiveGatewayFailures: count(options.consecutiveGatewayFailures ?? 5, `${o}.consecutiveGatewayFailures`, 0),
    intervalMs: parsePositiveDuration(options.interval ?? 10_000, `${o}.interval`),
    baseEjectionMs,
    maxEjectionMs,
    maxEjectionPercent: count(options.maxEjectionPercent ?? 10, `${o}.maxEjectionPercent`, 0, 100),
    successRate: rate === false ? undefined : Object.freeze({
      minimumHosts: count(rate.minimumHosts ?? 5, `${o}.successRate.minimumHosts`, 1),
      requestVolume: count(rate.requestVolume ?? 100, `${o}.successRate.requestVolume`, 1),
      stdevFactor: positive(rate.stdevFactor ?? 1.9, `${o}.successRate.stdevFactor`),
    }),
    panicThreshold: count(options.panicThreshold ?? 50, `${o}.panicThreshold`, 0, 100),
    slowStart: slow === false ? undefined : Object.freeze({
      windowMs: parsePositiveDuration(slow.window, `${o}.slowStart.window`),
      aggression: positive(slow.aggression ?? 1, `${o}.slowStart.aggression`),
      minWeight: count(slow.minWeightPercent ?? 10, `${o}.slowStart.minWeightPercent`, 1, 100) / 100,
    }),
  });
}
