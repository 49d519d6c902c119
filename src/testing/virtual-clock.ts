import type { Clock, TimerHandle } from '../core/clock.js';
import { readNumber } from '../core/options.js';
import { TimerHeap, type HeapEvent } from '../sim/timer-heap.js';

/** Wall-clock time, in epoch ms, that a {@link VirtualClock}'s time 0 stands for by default (2026-01-01T00:00:00Z). */
export const VIRTUAL_EPOCH_MS = 1_767_225_600_000;

/**
 * A {@link Clock} whose time moves only when told to, for deterministic tests
 * of timeouts, backoff and decay. Randomness comes from a seeded generator
 * (mulberry32) so runs repeat exactly. Timers wait in an O(log n) heap, so a
 * test with many thousands pending stays fast.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seed: number;
  readonly #epoch: number;
  #seq = 0;
  readonly #timers = new TimerHeap();

  /**
   * Starts at `start` ms (default 0) with random seed `seed` (default 1);
   * `wallNow()` is `epoch + now()` (default epoch {@link VIRTUAL_EPOCH_MS}).
   * Throws `ERR_INVALID_CONFIG` naming `start`, `seed` or `epoch` when one is
   * not a finite number (a seed must be an integer).
   */
  constructor(start = 0, seed = 1, epoch = VIRTUAL_EPOCH_MS) {
    this.#now = readNumber(start, 'start', 0);
    this.#seed = readNumber(seed, 'seed', 1, { integer: true }) >>> 0;
    this.#epoch = readNumber(epoch, 'epoch', VIRTUAL_EPOCH_MS);
  }

  now(): number {
    return this.#now;
  }

  /** Epoch milliseconds: the constructor's `epoch` plus `now()`. */
  wallNow(): number {
    return this.#epoch + this.#now;
  }

  random(): number {
    // mulberry32: small, fast, good enough for jitter and picks in tests.
    let t = (this.#seed = (this.#seed + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** `keepAlive` has no meaning in virtual time. */
  setTimeout(callback: () => void, ms: number, _keepAlive?: boolean): TimerHandle {
    const timer: HeapEvent = { at: this.#now + Math.max(0, ms), seq: this.#seq++, callback };
    this.#timers.push(timer);
    return timer;
  }

  /** Cancels a timer; a handle that already fired, was cancelled or is not this clock's is ignored. */
  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'object' && handle !== null && 'seq' in handle) this.#timers.cancel(handle as HeapEvent);
  }

  /** Deferred work runs on the real event loop's next turn: it takes no virtual time. */
  defer(callback: () => void): void {
    setImmediate(callback);
  }

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing due timers in time order (each sees
   * `now()` at its due time; timers due at the same time fire in the order
   * they were set). Lets promise callbacks run between timers, so code
   * awaiting a timer continues before the next one fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.#timers.peek();
      if (next === undefined || next.at > target) break;
      this.#timers.pop();
      const callback = next.callback!;
      // Marked as run, so a later clearTimeout of its handle is a no-op.
      next.callback = undefined;
      this.#now = Math.max(this.#now, next.at);
      callback();
    }
    this.#now = target;
    await flushMicrotasks();
  }
}

/** Lets every pending promise reaction run: the microtask queue drains before an immediate. */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
