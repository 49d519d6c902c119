import { systemClock, type Clock } from '../../core/clock.js';
import { parseDuration, type Duration } from '../../core/duration.js';
import { invalidConfig } from '../../core/errors.js';
import { gradient2 } from './gradient2.js';
import type { Limit, LimitAlgorithm } from './limit.js';
import { integerOption, readOptions } from './options.js';

/**
 * How completed calls are grouped before the algorithm sees them. A window
 * closes at the first completion after it has lasted its duration and holds at
 * least `minSamples` calls; the algorithm then gets one sample: the window's
 * average RTT, its largest in-flight count and whether any call dropped. The
 * next window lasts twice the smallest RTT of the last one, within
 * `[minTime, maxTime]` (Netflix concurrency-limits `WindowedLimit`).
 */
export interface SampleWindowOptions {
  /** Shortest window. Default 100 ms (Netflix: 1 s; see docs/policies/adaptive-concurrency.md). */
  readonly minTime?: Duration;
  /** Longest window. Default 1 s. */
  readonly maxTime?: Duration;
  /** Fewest calls per window. Default 10. */
  readonly minSamples?: number;
}

/** Resolved {@link SampleWindowOptions}, in ms. */
export interface SampleWindowSettings {
  readonly minTime: number;
  readonly maxTime: number;
  readonly minSamples: number;
}

/** Options for {@link ConcurrencyLimiter}. */
export interface ConcurrencyLimiterOptions {
  /** The limit algorithm. Default `gradient2()`. */
  readonly algorithm?: LimitAlgorithm;
  /**
   * Sample windows, or `false` to feed the algorithm every completed call (as
   * Netflix's limiters do without `WindowedLimit`). Default 100 ms to 1 s, 10 calls.
   */
  readonly window?: SampleWindowOptions | false;
  /** Time and randomness. Default the system clock. */
  readonly clock?: Clock;
}

/** What one finished call tells the limiter. */
export type LimiterSignal =
  /** It completed normally: its RTT is a sample. */
  | 'success'
  /** It showed overload (a timeout, a 429, a 503): a sample that counts as a drop. */
  | 'dropped'
  /** It says nothing about the upstream's capacity (aborted, failed fast): no sample. */
  | 'ignore';

const LIMITER_OPTIONS = ['algorithm', 'window', 'clock'];
const WINDOW_OPTIONS = ['minTime', 'maxTime', 'minSamples'];

/** Validates sample-window options; errors name `<option>.minTime` and so on. */
export function resolveSampleWindow(options: SampleWindowOptions | false | undefined, option: string): SampleWindowSettings | undefined {
  if (options === false) return undefined;
  const o = readOptions(option, options, WINDOW_OPTIONS);
  const minTime = o['minTime'] === undefined ? 100 : parseDuration(o['minTime'], `${option}.minTime`);
  const maxTime = o['maxTime'] === undefined ? Math.max(1000, minTime) : parseDuration(o['maxTime'], `${option}.maxTime`);
  if (maxTime < minTime) throw invalidConfig(`${option}.maxTime`, `a duration >= ${option}.minTime (${minTime} ms)`, o['maxTime']);
  const minSamples = integerOption(o['minSamples'], `${option}.minSamples`, 1, 1_000_000, 10);
  return Object.freeze({ minTime, maxTime, minSamples });
}

/**
 * Counts calls in flight against a limit that a {@link LimitAlgorithm} moves
 * from the calls' round-trip times. It never queues: {@link tryAcquire}
 * answers at once. It owns no timer and allocates nothing per call.
 *
 * Protocol: `const n = limiter.tryAcquire()`; if `n === 0` the call is over
 * the limit; otherwise note `start = limiter.clock.now()`, run the call, then
 * `limiter.release(start, n, signal)` exactly once. The outbound policy
 * (`adaptiveConcurrency`) and an inbound load shedder can share this class.
 */
export class ConcurrencyLimiter {
  readonly algorithm: LimitAlgorithm;
  readonly clock: Clock;
  /** The window settings; undefined when every call is a sample. */
  readonly window: SampleWindowSettings | undefined;
  readonly #state: Limit;
  #limit = 0;
  #inFlight = 0;
  // The open sample window.
  #windowStart = 0;
  #windowLength = 0;
  #count = 0;
  #sum = 0;
  #minRtt = Infinity;
  #maxInFlight = 0;
  #dropped = false;

  /** Throws `ERR_INVALID_CONFIG` naming `<option>.<name>` for a bad option. */
  constructor(options: ConcurrencyLimiterOptions = {}, option = 'limiter') {
    const o = readOptions(option, options, LIMITER_OPTIONS);
    const algorithm = o['algorithm'] ?? gradient2();
    if (algorithm === null || typeof algorithm !== 'object' || typeof (algorithm as LimitAlgorithm).create !== 'function') {
      throw invalidConfig(`${option}.algorithm`, 'a limit algorithm such as gradient2(), vegas() or aimd()', algorithm);
    }
    const clock = o['clock'] ?? systemClock;
    if (clock === null || typeof clock !== 'object' || typeof (clock as Clock).now !== 'function' || typeof (clock as Clock).random !== 'function') {
      throw invalidConfig(`${option}.clock`, 'a clock with now() and random()', clock);
    }
    this.algorithm = algorithm as LimitAlgorithm;
    this.clock = clock as Clock;
    this.window = resolveSampleWindow(o['window'] as SampleWindowOptions | false | undefined, `${option}.window`);
    this.#state = this.algorithm.create(this.clock);
    this.#limit = this.#state.limit;
    this.#windowStart = this.clock.now();
    this.#windowLength = this.window?.minTime ?? 0;
  }

  /** The current limit on calls in flight. */
  get limit(): number {
    return this.#limit;
  }

  /** Calls admitted and not yet released. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Admits one call if fewer than {@link limit} are in flight. Returns the
   * number in flight including this call (pass it to {@link release}), or 0
   * when the call must be refused.
   */
  tryAcquire(): number {
    if (this.#inFlight >= this.#limit) return 0;
    return ++this.#inFlight;
  }

  /**
   * Admits one call whatever the limit (for a caller that has decided the
   * limit does not bind now, as the inbound load shedder does while it warms
   * up). Returns the number in flight including this call; release it as any other.
   */
  acquire(): number {
    return ++this.#inFlight;
  }

  /**
   * Ends an admitted call.
   * @param startedAt `clock.now()` when it was admitted.
   * @param inFlight what {@link tryAcquire} returned for it.
   * @param signal what the call says about the upstream's capacity.
   * @param endedAt `clock.now()` when it ended, if the caller read it already (saves a clock read).
   */
  release(startedAt: number, inFlight: number, signal: LimiterSignal, endedAt?: number): void {
    this.#inFlight--;
    if (signal === 'ignore') return;
    const now = endedAt ?? this.clock.now();
    const rtt = now - startedAt;
    const dropped = signal === 'dropped';
    const window = this.window;
    if (window === undefined) {
      this.#limit = this.#state.update(rtt, inFlight, dropped);
      return;
    }
    this.#count++;
    this.#sum += rtt;
    if (rtt < this.#minRtt) this.#minRtt = rtt;
    if (inFlight > this.#maxInFlight) this.#maxInFlight = inFlight;
    if (dropped) this.#dropped = true;
    if (now - this.#windowStart < this.#windowLength || this.#count < window.minSamples) return;
    this.#limit = this.#state.update(this.#sum / this.#count, this.#maxInFlight, this.#dropped);
    const length = 2 * this.#minRtt;
    this.#windowLength = length < window.minTime ? window.minTime : length > window.maxTime ? window.maxTime : length;
    this.#windowStart = now;
    this.#count = 0;
    this.#sum = 0;
    this.#minRtt = Infinity;
    this.#maxInFlight = 0;
    this.#dropped = false;
  }
}
