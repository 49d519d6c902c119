import type { Clock, TimerHandle } from '../core/clock.js';
import { readNumber } from '../core/options.js';

interface VirtualTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A {@link Clock} whose time moves only when told to, for deterministic tests
 * of timeouts, backoff and decay. Randomness comes from a seeded generator
 * (mulberry32) so runs repeat exactly.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seed: number;
  #nextId = 1;
  #timers: VirtualTimer[] = [];

  /**
   * Starts at `start` ms (default 0) with random seed `seed` (default 1).
   * Throws `ERR_INVALID_CONFIG` naming `start` or `seed` when either is not a
   * finite number (a seed must be an integer).
   */
  constructor(start = 0, seed = 1) {
    this.#now = readNumber(start, 'start', 0);
    this.#seed = readNumber(seed, 'seed', 1, { integer: true }) >>> 0;
  }

  now(): number {
    return this.#now;
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
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), callback };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle);
  }

  /** Deferred work runs on the real event loop's next turn: it takes no virtual time. */
  defer(callback: () => void): void {
    setImmediate(callback);
  }

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in time order (each sees
   * `now()` at its due time). Lets promise callbacks run between timers, so
   * code awaiting a timer continues before the next one fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.#earliest();
      if (next === undefined || next.at > target) break;
      this.#timers = this.#timers.filter((timer) => timer !== next);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  #earliest(): VirtualTimer | undefined {
    let earliest: VirtualTimer | undefined;
    for (const timer of this.#timers) {
      if (earliest === undefined || timer.at < earliest.at || (timer.at === earliest.at && timer.id < earliest.id)) earliest = timer;
    }
    return earliest;
  }
}

/** Lets every pending promise reaction run: the microtask queue drains before an immediate. */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
