import { performance } from 'node:perf_hooks';

/** Node's longest timer, 2^31 - 1 ms: longer ones fire at once (see core/duration.ts MAX_DURATION_MS). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Time and randomness, injectable so that tests and simulations run in virtual
 * time. `now()` is monotonic milliseconds (not wall-clock time).
 */
export interface Clock {
  /** Monotonic time in milliseconds; only differences are meaningful. */
  now(): number;
  /** A uniformly distributed number in [0, 1). */
  random(): number;
  /**
   * Runs `callback` after `ms`. Real clocks unref the timer unless `keepAlive`
   * is true: a timeout guarding I/O must not hold the process open, but a
   * wait that is the only thing a pending call is doing (a retry's backoff)
   * must.
   */
  setTimeout(callback: () => void, ms: number, keepAlive?: boolean): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /**
   * Runs `callback` after the I/O that is ready now (a macrotask, Node's
   * `setImmediate`). meshkit settles fast local refusals this way, so a caller
   * looping on them cannot starve discovery and timers. Optional: without it,
   * a 0 ms `setTimeout` on this clock is used.
   */
  defer?(callback: () => void): void;
  /**
   * Wall-clock time in epoch milliseconds, for what is inherently wall-clock
   * (a certificate's expiry, a Retry-After HTTP date, a snapshot's time
   * stamp). Optional: read it through {@link wallClockNow}, which falls back
   * to `Date.now()` for a clock without it. `systemClock` gives `Date.now()`;
   * a simulation's clock gives the wall time its virtual time stands for.
   */
  wallNow?(): number;
}

/** The real clock: `performance.now()`, `Date.now()`, `Math.random()`, unref'd Node timers and `setImmediate`. */
export const systemClock: Clock = Object.freeze({
  // perf_hooks' object, not the global `performance`: that global is a getter, read on every call.
  now: () => performance.now(),
  wallNow: () => Date.now(),
  random: Math.random,
  setTimeout(callback: () => void, ms: number, keepAlive = false): TimerHandle {
    // Past Node's limit a timer fires at once and warns: options are bounded, this is the last line.
    const timer = setTimeout(callback, ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms);
    if (!keepAlive) timer.unref();
    return timer;
  },
  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  },
  defer(callback: () => void): void {
    setImmediate(callback);
  },
});

/**
 * `clock`'s wall-clock time in epoch milliseconds: its `wallNow()`, or
 * `Date.now()` for a clock without one (a custom clock written before
 * `wallNow` existed).
 */
export function wallClockNow(clock: Clock): number {
  return clock.wallNow !== undefined ? clock.wallNow() : Date.now();
}
