import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readNumber } from '../core/options.js';
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

const HEDGE_KEYS: readonly (keyof HedgeOptions)[] = ['after', 'max', 'budget'];

/** Validates hedging options; errors name `hedge.<option>` (unknown keys included). */
export function resolveHedge(options: HedgeOptions): HedgeSettings {
  const o = checkOptions(options, 'hedge', HEDGE_KEYS);
  const after = o['after'] ?? 'p95';
  let delayMs: number | undefined;
  let percentile: number | undefined;
  const quantile = typeof after === 'string' ? /^p(\d+(?:\.\d+)?)$/.exec(after) : null;
  if (quantile !== null) {
    percentile = Number(quantile[1]);
    if (!(percentile > 0 && percentile < 100)) throw invalidConfig('hedge.after', 'a percentile from p1 to p99.9', after);
  } else {
    delayMs = parsePositiveDuration(after, 'hedge.after');
  }
  const max = readNumber(o['max'], 'hedge.max', 1, { min: 1, max: 3, integer: true });
  const ratio = readNumber(o['budget'], 'hedge.budget', 0.05, { min: 0, max: 1, minExclusive: true });
  return Object.freeze({ delayMs, percentile, max, budget: resolveRetryBudget({ ratio, minPerSecond: 1, ttl: '10s' }, 'hedge.budget') });
}
