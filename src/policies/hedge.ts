import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { resolveRetryBudget, type RetryBudgetSettings } from './retry-budget.js';

/** Options of `.hedge()`. */
export interface HedgeOptions {
  /**
   * When to send a hedge if the first attempt has not answered: a percentile
   * of recent successful attempt latencies (`'p95'`, `'p99'`, ...) or a fixed
   * duration (`'50ms'`). Default `'p95'` (The Tail at Scale; Finagle's backup requests).
   */
  readonly after?: `p${number}` | Duration;
  /** Hedges per call at most. Default 1. */
  readonly max?: number;
  /** Hedges may add at most this fraction of calls (plus 1 per second), over 10 s. Default 0.05. */
  readonly budget?: number;
}

/** Resolved hedging settings. */
export interface HedgeSettings {
  /** Fixed delay in ms, or undefined when the delay follows a percentile. */
  readonly delayMs: number | undefined;
  /** Percentile (0-100) of recent latency, when the delay follows one. */
  readonly percentile: number | undefined;
  readonly max: number;
  readonly budget: RetryBudgetSettings;
}

/** Validates hedging options; errors name `hedge.<option>`. */
export function resolveHedge(options: HedgeOptions): HedgeSettings {
  if (options === null || typeof options !== 'object') throw invalidConfig('hedge', '{ after?, max?, budget? }', options);
  const after = options.after ?? 'p95';
  let delayMs: number | undefined;
  let percentile: number | undefined;
  const quantile = typeof after === 'string' ? /^p(\d+(?:\.\d+)?)$/.exec(after) : null;
  if (quantile !== null) {
    percentile = Number(quantile[1]);
    if (!(percentile > 0 && percentile < 100)) throw invalidConfig('hedge.after', 'a percentile from p1 to p99.9', after);
  } else {
    delayMs = parsePositiveDuration(after, 'hedge.after');
  }
  const max = options.max ?? 1;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 3) throw invalidConfig('hedge.max', 'an integer from 1 to 3', max);
  const ratio = options.budget ?? 0.05;
  if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio <= 0 || ratio > 1) throw invalidConfig('hedge.budget', 'a fraction > 0 and <= 1', ratio);
  return Object.freeze({ delayMs, percentile, max, budget: resolveRetryBudget({ ratio, minPerSecond: 1, ttl: '10s' }) });
}
