import type { Clock } from '../../core/clock.js';
import { clamp, sane, type Limit, type LimitAlgorithm } from './limit.js';
import {
  checkLimitRange, integerOption, limitFunctionOption, MAX_LIMIT, MIN_RTT_MS, numberOption, readOptions,
} from './options.js';

/** Options for {@link gradient2}. Defaults are Netflix concurrency-limits' `Gradient2Limit`. */
export interface Gradient2Options {
  /** Limit to start from. Default 20. */
  readonly initialLimit?: number;
  /** The limit never falls below this. Default 20 (lower it for upstreams that serve fewer calls at once). */
  readonly minLimit?: number;
  /** The limit never rises above this. Default 200. */
  readonly maxLimit?: number;
  /**
   * How far one sample moves the limit towards its new estimate, in (0, 1];
   * 1 replaces the limit with the estimate. Default 0.2.
   */
  readonly smoothing?: number;
  /**
   * Calls allowed to queue at the upstream: the amount the limit grows per
   * sample while latency stays within tolerance. A number, or a function of the
   * current limit. Default 4.
   */
  readonly queueSize?: number | ((limit: number) => number);
  /**
   * How much slower than the long-term RTT a sample may be before the limit
   * shrinks: the gradient is `rttTolerance * longRtt / rtt`. At least 1. Default 1.5.
   */
  readonly rttTolerance?: number;
  /**
   * Samples in the long-term RTT's exponential average (smoothing factor
   * `2 / (longWindow + 1)`, after a plain average of the first 10). Default 600.
   */
  readonly longWindow?: number;
}

const OPTIONS = ['initialLimit', 'minLimit', 'maxLimit', 'smoothing', 'queueSize', 'rttTolerance', 'longWindow'];
/** Samples averaged plainly before the long RTT becomes an exponential average (Netflix: 10). */
const WARMUP = 10;
/** When the long RTT exceeds this multiple of a sample it is pulled back by {@link DRIFT_BACK} (Netflix: 2 and 0.95). */
const DRIFT_RATIO = 2;
const DRIFT_BACK = 0.95;

/** Resolved {@link gradient2} settings. */
export interface Gradient2Algorithm extends LimitAlgorithm {
  readonly name: 'gradient2';
  readonly smoothing: number;
  readonly queueSize: (limit: number) => number;
  readonly rttTolerance: number;
  readonly longWindow: number;
}

/**
 * Gradient2, the default adaptive-concurrency algorithm (Netflix
 * concurrency-limits `Gradient2Limit`). It compares each sample's RTT with a
 * long-term exponential average of RTT:
 *
 * ```
 * gradient = clamp(rttTolerance * longRtt / rtt, 0.5, 1)
 * estimate = limit * gradient + queueSize
 * limit    = clamp(limit * (1 - smoothing) + estimate * smoothing, minLimit, maxLimit)
 * ```
 *
 * While latency stays within `rttTolerance` of the long-term RTT the limit
 * grows by `queueSize * smoothing` per sample; when calls queue and RTT rises
 * it shrinks by up to `smoothing / 2` of itself per sample. The long-term RTT
 * follows sustained changes slowly, and when it is more than twice a sample
 * (load has gone away) it is pulled down by 5 % per sample so the limit can
 * recover. The limit does not move while fewer than half of it are in flight
 * (the caller, not the upstream, is the bottleneck).
 *
 * Defaults: initialLimit 20, minLimit 20, maxLimit 200, smoothing 0.2,
 * queueSize 4, rttTolerance 1.5, longWindow 600. Throws `ERR_INVALID_CONFIG`
 * naming `gradient2.<option>`.
 */
export function gradient2(options?: Gradient2Options): Gradient2Algorithm {
  const o = readOptions('gradient2', options, OPTIONS);
  const minLimit = integerOption(o['minLimit'], 'gradient2.minLimit', 1, MAX_LIMIT, 20);
  const maxLimit = integerOption(o['maxLimit'], 'gradient2.maxLimit', 1, MAX_LIMIT, Math.max(200, minLimit));
  const initialLimit = integerOption(o['initialLimit'], 'gradient2.initialLimit', 1, MAX_LIMIT, clamp(20, minLimit, maxLimit));
  checkLimitRange('gradient2', minLimit, initialLimit, maxLimit);
  const settings = {
    name: 'gradient2' as const,
    initialLimit,
    minLimit,
    maxLimit,
    smoothing: numberOption(o['smoothing'], 'gradient2.smoothing', 0.2, 0, 1, true),
    queueSize: limitFunctionOption(o['queueSize'], 'gradient2.queueSize', 0, () => 4),
    rttTolerance: numberOption(o['rttTolerance'], 'gradient2.rttTolerance', 1.5, 1, Infinity),
    longWindow: integerOption(o['longWindow'], 'gradient2.longWindow', 1, MAX_LIMIT, 600),
    create(_clock: Clock): Limit {
      return new Gradient2Limit(settings);
    },
  };
  return Object.freeze(settings);
}

/** The state of one Gradient2 limit. */
class Gradient2Limit implements Limit {
  readonly #s: Gradient2Algorithm;
  readonly #factor: number;
  /** The limit before rounding down. */
  #estimate = 0;
  #limit = 0;
  /** Long-term RTT: a plain average of the first samples, then an exponential average. */
  #longRtt = 0;
  #samples = 0;

  constructor(settings: Gradient2Algorithm) {
    this.#s = settings;
    this.#factor = 2 / (settings.longWindow + 1);
    this.#estimate = settings.initialLimit;
    this.#limit = settings.initialLimit;
  }

  get limit(): number {
    return this.#limit;
  }

  /** The long-term RTT in ms (0 before the first sample). */
  get longRtt(): number {
    return this.#longRtt;
  }

  /** Queueing: slower than `rttTolerance` times the long-term RTT (the gradient falls below 1). */
  queueing(rtt: number): boolean {
    return this.#longRtt > 0 && rtt > this.#s.rttTolerance * this.#longRtt;
  }

  update(rtt: number, inFlight: number, _dropped: boolean): number {
    const s = this.#s;
    const shortRtt = rtt > MIN_RTT_MS ? rtt : MIN_RTT_MS;
    let longRtt: number;
    if (this.#samples < WARMUP) {
      this.#samples++;
      longRtt = this.#longRtt += (shortRtt - this.#longRtt) / this.#samples;
    } else {
      longRtt = this.#longRtt += (shortRtt - this.#longRtt) * this.#factor;
    }
    // Load went away after a long spell: pull the long RTT back sooner than the average would.
    if (longRtt > DRIFT_RATIO * shortRtt) this.#longRtt *= DRIFT_BACK;
    const estimate = this.#estimate;
    if (inFlight < estimate / 2) return this.#limit;
    const gradient = clamp((s.rttTolerance * longRtt) / shortRtt, 0.5, 1);
    const target = estimate * gradient + sane(s.queueSize(this.#limit));
    const next = clamp(estimate * (1 - s.smoothing) + target * s.smoothing, s.minLimit, s.maxLimit);
    this.#estimate = next;
    return (this.#limit = Math.floor(next));
  }
}
