import type { Clock } from '../../core/clock.js';
import { clamp, sane, type Limit, type LimitAlgorithm } from './limit.js';
import {
  checkLimitRange, integerOption, limitFunctionOption, MAX_LIMIT, MIN_RTT_MS, numberOption, readOptions,
} from './options.js';

/** Options for {@link vegas}. Defaults are Netflix concurrency-limits' `VegasLimit`. */
export interface VegasOptions {
  /** Limit to start from. Default 20. */
  readonly initialLimit?: number;
  /** The limit never falls below this. Default 1. */
  readonly minLimit?: number;
  /** The limit never rises above this. Default 1000. */
  readonly maxLimit?: number;
  /** How far one update moves the limit towards its new value, in (0, 1]. Default 1 (no smoothing). */
  readonly smoothing?: number;
  /**
   * Below this estimated queue the limit grows by `log10(limit)`. A number or a
   * function of the current limit. Default `3 * log10(limit)`.
   */
  readonly alpha?: number | ((limit: number) => number);
  /**
   * Above this estimated queue the limit shrinks by `log10(limit)`. A number or
   * a function of the current limit. Default `6 * log10(limit)`.
   */
  readonly beta?: number | ((limit: number) => number);
  /**
   * At or below this estimated queue (no queueing) the limit grows fast, by
   * `beta`. A number or a function of the current limit. Default `log10(limit)`.
   */
  readonly threshold?: number | ((limit: number) => number);
  /**
   * The no-load RTT is re-measured (taken from the next sample) after about
   * `probeMultiplier * limit` samples, jittered by 0.5-1x, so it can rise when
   * the upstream gets slower for good. Default 30.
   */
  readonly probeMultiplier?: number;
}

const OPTIONS = ['initialLimit', 'minLimit', 'maxLimit', 'smoothing', 'alpha', 'beta', 'threshold', 'probeMultiplier'];

/** Netflix's `Log10RootFunction`: `max(1, floor(log10(limit)))`, the step every Vegas rule is scaled by. */
export function log10Root(limit: number): number {
  return limit < 100 ? 1 : Math.floor(Math.log10(limit));
}

/** Resolved {@link vegas} settings. */
export interface VegasAlgorithm extends LimitAlgorithm {
  readonly name: 'vegas';
  readonly smoothing: number;
  readonly alpha: (limit: number) => number;
  readonly beta: (limit: number) => number;
  readonly threshold: (limit: number) => number;
  readonly probeMultiplier: number;
}

/**
 * Vegas, a delay-based algorithm after TCP Vegas (Netflix concurrency-limits
 * `VegasLimit`). It keeps the lowest RTT seen as the no-load RTT and estimates
 * the calls queued at the upstream from each sample:
 *
 * ```
 * queue = ceil(limit * (1 - rttNoLoad / rtt))
 * dropped:            limit - log10(limit)
 * queue <= threshold: limit + beta          (no queueing: grow fast)
 * queue <  alpha:     limit + log10(limit)
 * queue >  beta:      limit - log10(limit)
 * otherwise:          unchanged
 * ```
 *
 * where `log10(limit)` is `max(1, floor(log10(limit)))`. A sample below the
 * no-load RTT becomes the new no-load RTT; every `probeMultiplier * limit`
 * samples (jittered with `clock.random()`) the next sample replaces it, so a
 * permanently slower upstream is learnt. The limit does not grow while fewer
 * than half of it are in flight.
 *
 * Defaults: initialLimit 20, minLimit 1, maxLimit 1000, smoothing 1,
 * alpha `3 * log10(limit)`, beta `6 * log10(limit)`, threshold `log10(limit)`,
 * probeMultiplier 30. Throws `ERR_INVALID_CONFIG` naming `vegas.<option>`.
 */
export function vegas(options?: VegasOptions): VegasAlgorithm {
  const o = readOptions('vegas', options, OPTIONS);
  const minLimit = integerOption(o['minLimit'], 'vegas.minLimit', 1, MAX_LIMIT, 1);
  const maxLimit = integerOption(o['maxLimit'], 'vegas.maxLimit', 1, MAX_LIMIT, Math.max(1000, minLimit));
  const initialLimit = integerOption(o['initialLimit'], 'vegas.initialLimit', 1, MAX_LIMIT, clamp(20, minLimit, maxLimit));
  checkLimitRange('vegas', minLimit, initialLimit, maxLimit);
  const settings = {
    name: 'vegas' as const,
    initialLimit,
    minLimit,
    maxLimit,
    smoothing: numberOption(o['smoothing'], 'vegas.smoothing', 1, 0, 1, true),
    alpha: limitFunctionOption(o['alpha'], 'vegas.alpha', 0, (limit) => 3 * log10Root(limit)),
    beta: limitFunctionOption(o['beta'], 'vegas.beta', 0, (limit) => 6 * log10Root(limit)),
    threshold: limitFunctionOption(o['threshold'], 'vegas.threshold', 0, log10Root),
    probeMultiplier: numberOption(o['probeMultiplier'], 'vegas.probeMultiplier', 30, 0, Infinity, true),
    create(clock: Clock): Limit {
      return new VegasLimit(settings, clock);
    },
  };
  return Object.freeze(settings);
}

/** The state of one Vegas limit. */
class VegasLimit implements Limit {
  readonly #s: VegasAlgorithm;
  readonly #clock: Clock;
  #estimate = 0;
  #limit = 0;
  /** Lowest RTT since the last probe; 0 until the first sample. */
  #rttNoLoad = 0;
  #probeCount = 0;
  #probeJitter: number;

  constructor(settings: VegasAlgorithm, clock: Clock) {
    this.#s = settings;
    this.#clock = clock;
    this.#estimate = settings.initialLimit;
    this.#limit = settings.initialLimit;
    this.#probeJitter = 0.5 + clock.random() / 2;
  }

  get limit(): number {
    return this.#limit;
  }

  /** The no-load RTT in ms (0 before the first sample). */
  get rttNoLoad(): number {
    return this.#rttNoLoad;
  }

  /** Queueing: the estimated queue is above `beta`, where Vegas lowers the limit. */
  queueing(rtt: number): boolean {
    const rttNoLoad = this.#rttNoLoad;
    if (rttNoLoad === 0 || rtt <= rttNoLoad) return false;
    return Math.ceil(this.#estimate * (1 - rttNoLoad / rtt)) > sane(this.#s.beta(this.#limit));
  }

  update(rtt: number, inFlight: number, dropped: boolean): number {
    const s = this.#s;
    const sample = rtt > MIN_RTT_MS ? rtt : MIN_RTT_MS;
    const estimate = this.#estimate;
    if (++this.#probeCount >= this.#probeJitter * s.probeMultiplier * estimate) {
      this.#probeCount = 0;
      this.#probeJitter = 0.5 + this.#clock.random() / 2;
      this.#rttNoLoad = sample;
      return this.#limit;
    }
    if (this.#rttNoLoad === 0 || sample < this.#rttNoLoad) {
      this.#rttNoLoad = sample;
      return this.#limit;
    }
    let next: number;
    if (dropped) next = estimate - log10Root(estimate);
    else if (inFlight * 2 < estimate) return this.#limit;
    else {
      const limit = this.#limit;
      const queue = Math.ceil(estimate * (1 - this.#rttNoLoad / sample));
      const beta = sane(s.beta(limit));
      if (queue <= sane(s.threshold(limit))) next = estimate + beta;
      else if (queue < sane(s.alpha(limit))) next = estimate + log10Root(estimate);
      else if (queue > beta) next = estimate - log10Root(estimate);
      else return limit;
    }
    next = clamp(next, s.minLimit, s.maxLimit);
    // Clamped again: rounding must not take the blend a hair below minLimit.
    next = clamp(estimate * (1 - s.smoothing) + next * s.smoothing, s.minLimit, s.maxLimit);
    this.#estimate = next;
    return (this.#limit = Math.floor(next));
  }
}
