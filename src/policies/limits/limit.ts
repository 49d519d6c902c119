import type { Clock } from '../../core/clock.js';

/**
 * The mutable state of one limit algorithm inside one limiter: the current
 * concurrency limit and the rule that moves it.
 */
export interface Limit {
  /** The current limit: an integer within the algorithm's `[minLimit, maxLimit]`. */
  readonly limit: number;
  /**
   * Feeds one sample and returns the new {@link limit}.
   * @param rtt Round-trip time in ms of the sampled call (or the average of a sample window).
   * @param inFlight Calls in flight when the sampled call was admitted, itself included
   *   (the maximum over a window); algorithms do not grow the limit while this stays
   *   under half of it ("app-limited", as in Netflix concurrency-limits).
   * @param dropped True when the call showed overload (a timeout, a deadline, a 429 or 503).
   */
  update(rtt: number, inFlight: number, dropped: boolean): number;
  /**
   * Optional: whether a sample of this RTT shows calls queueing, that is
   * latency above the no-load baseline by more than this algorithm tolerates,
   * judged on the state before the sample is fed (false while there is no
   * baseline yet). The inbound load shedder asks it to decide whether the
   * limit must bind; an algorithm without it makes the limit bind once the
   * shedder has warmed up.
   */
  queueing?(rtt: number): boolean;
}

/**
 * A concurrency-limit algorithm: validated, immutable settings that create a
 * fresh {@link Limit} for each limiter, so one algorithm value may configure
 * several limiters without sharing state. Built by `gradient2()`, `vegas()` or
 * `aimd()`; you may write your own.
 */
export interface LimitAlgorithm {
  /** A short name for status and errors (`'gradient2'`, `'vegas'`, `'aimd'`). */
  readonly name: string;
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  /** Creates the state for one limiter; `clock.random()` is the only source of randomness it may use. */
  create(clock: Clock): Limit;
}

/** Clamps `value` to `[min, max]`. @internal */
export function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}

/** A per-limit function's result made safe to use: non-finite or negative results count as 0. @internal */
export function sane(value: number): number {
  return value >= 0 && value < Infinity ? value : 0;
}
