import type { Clock } from '../../core/clock.js';
import { parsePositiveDuration, type Duration } from '../../core/duration.js';
import { clamp, type Limit, type LimitAlgorithm } from './limit.js';
import { checkLimitRange, integerOption, MAX_LIMIT, numberOption, readOptions } from './options.js';

/** Options for {@link aimd}. Defaults are Netflix concurrency-limits' `AIMDLimit`. */
export interface AimdOptions {
  /** Limit to start from. Default 20. */
  readonly initialLimit?: number;
  /** The limit never falls below this. Default 20. */
  readonly minLimit?: number;
  /** The limit never rises above this. Default 200. */
  readonly maxLimit?: number;
  /** The limit is multiplied by this on a drop, in [0.5, 1). Default 0.9. */
  readonly backoffRatio?: number;
  /** A call slower than this counts as a drop even if it succeeded. Default 5 s. */
  readonly timeout?: Duration;
}

const OPTIONS = ['initialLimit', 'minLimit', 'maxLimit', 'backoffRatio', 'timeout'];

/** Resolved {@link aimd} settings. */
export interface AimdAlgorithm extends LimitAlgorithm {
  readonly name: 'aimd';
  readonly backoffRatio: number;
  /** In ms. */
  readonly timeout: number;
}

/**
 * AIMD, the loss-based algorithm of TCP congestion control (Netflix
 * concurrency-limits `AIMDLimit`): additive increase, multiplicative decrease.
 *
 * ```
 * dropped or rtt > timeout:   floor(limit * backoffRatio)
 * inFlight >= limit / 2:      limit + 1
 * otherwise:                  unchanged
 * ```
 *
 * clamped to `[minLimit, maxLimit]`. It ignores latency below `timeout`, so it
 * reacts only once the upstream times out or sheds (429/503): simple and
 * robust, but it lets queues build until then. Prefer Gradient2 or Vegas when
 * latency matters.
 *
 * Defaults: initialLimit 20, minLimit 20, maxLimit 200, backoffRatio 0.9,
 * timeout 5 s. Throws `ERR_INVALID_CONFIG` naming `aimd.<option>`.
 */
export function aimd(options?: AimdOptions): AimdAlgorithm {
  const o = readOptions('aimd', options, OPTIONS);
  const minLimit = integerOption(o['minLimit'], 'aimd.minLimit', 1, MAX_LIMIT, 20);
  const maxLimit = integerOption(o['maxLimit'], 'aimd.maxLimit', 1, MAX_LIMIT, Math.max(200, minLimit));
  const initialLimit = integerOption(o['initialLimit'], 'aimd.initialLimit', 1, MAX_LIMIT, clamp(20, minLimit, maxLimit));
  checkLimitRange('aimd', minLimit, initialLimit, maxLimit);
  const settings = {
    name: 'aimd' as const,
    initialLimit,
    minLimit,
    maxLimit,
    backoffRatio: numberOption(o['backoffRatio'], 'aimd.backoffRatio', 0.9, 0.5, 1, false, true),
    timeout: o['timeout'] === undefined ? 5000 : parsePositiveDuration(o['timeout'], 'aimd.timeout'),
    create(_clock: Clock): Limit {
      return new AimdLimit(settings);
    },
  };
  return Object.freeze(settings);
}

/** The state of one AIMD limit. */
class AimdLimit implements Limit {
  readonly #s: AimdAlgorithm;
  #limit = 0;

  constructor(settings: AimdAlgorithm) {
    this.#s = settings;
    this.#limit = settings.initialLimit;
  }

  get limit(): number {
    return this.#limit;
  }

  /** AIMD knows no baseline: only a call slower than `timeout` shows queueing. */
  queueing(rtt: number): boolean {
    return rtt > this.#s.timeout;
  }

  update(rtt: number, inFlight: number, dropped: boolean): number {
    const s = this.#s;
    const limit = this.#limit;
    if (dropped || rtt > s.timeout) return (this.#limit = Math.max(s.minLimit, Math.floor(limit * s.backoffRatio)));
    if (inFlight * 2 >= limit) return (this.#limit = Math.min(s.maxLimit, limit + 1));
    return limit;
  }
}
