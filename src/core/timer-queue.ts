import type { Clock, TimerHandle } from './clock.js';

/**
 * Something that can wait in a {@link TimerQueue}. The queue links entries
 * intrusively (no wrapper object per timeout), so an attempt costs no extra
 * allocation to be timed.
 */
export abstract class TimerEntry {
  /** @internal */ timerExpiresAt = 0;
  /** @internal */ timerPrev: TimerEntry | undefined = undefined;
  /** @internal */ timerNext: TimerEntry | undefined = undefined;
  /** @internal */ timerList: TimerList | undefined = undefined;

  /** Called once when the entry's time has come (never after it was cancelled). */
  abstract onTimeout(): void;
}

/** @internal A FIFO of entries sharing one delay, so expiry grows from head to tail. */
export class TimerList {
  head: TimerEntry | undefined = undefined;
  tail: TimerEntry | undefined = undefined;
  constructor(readonly delay: number) {}
}

/**
 * Rounds a delay so that the number of distinct lists stays small: exact
 * milliseconds up to 1 s, then 64 steps per power of two (at most 1.6 % late).
 */
function quantize(delay: number): number {
  const ms = Math.max(1, Math.ceil(delay));
  if (ms <= 1024) return ms;
  const step = 2 ** (Math.floor(Math.log2(ms)) - 6);
  return Math.ceil(ms / step) * step;
}

/**
 * Many timeouts on one timer. Entries with the same (quantized) delay share a
 * FIFO list, whose head always expires first; one clock timer is armed for the
 * earliest head. Scheduling and cancelling are O(1) and allocate nothing, which
 * is why meshkit uses this instead of a `setTimeout` per call (see the
 * performance rules in docs/architecture.md).
 *
 * Timeouts fire no earlier than asked, and at most 1.6 % (or 1 ms) later.
 */
export class TimerQueue {
  readonly #clock: Clock;
  readonly #lists = new Map<number, TimerList>();
  #timer: TimerHandle | undefined = undefined;
  #armedAt = Infinity;
  #size = 0;
  readonly #fire = (): void => this.#onTimer();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Number of entries waiting. */
  get size(): number {
    return this.#size;
  }

  /**
   * Schedules `entry.onTimeout()` after `delay` ms from `now` (the caller's
   * fresh clock reading, passed in to save a second read). The entry must not
   * be scheduled already.
   */
  schedule(entry: TimerEntry, delay: number, now: number = this.#clock.now()): void {
    const key = quantize(delay);
    let list = this.#lists.get(key);
    if (list === undefined) {
      list = new TimerList(key);
      this.#lists.set(key, list);
    }
    const expiresAt = now + key;
    entry.timerExpiresAt = expiresAt;
    entry.timerList = list;
    entry.timerNext = undefined;
    entry.timerPrev = list.tail;
    if (list.tail === undefined) list.head = entry;
    else list.tail.timerNext = entry;
    list.tail = entry;
    this.#size++;
    if (expiresAt < this.#armedAt) this.#arm(expiresAt);
  }

  /** Removes a scheduled entry; a no-op for one that is not scheduled. */
  cancel(entry: TimerEntry): void {
    const list = entry.timerList;
    if (list === undefined) return;
    const { timerPrev: prev, timerNext: next } = entry;
    if (prev === undefined) list.head = next;
    else prev.timerNext = next;
    if (next === undefined) list.tail = prev;
    else next.timerPrev = prev;
    entry.timerList = entry.timerPrev = entry.timerNext = undefined;
    this.#size--;
    // The armed timer stays: when it fires early it simply re-arms. Clearing it
    // here would cost a clearTimeout per call on the success path.
  }

  /** Drops every entry without firing it and clears the clock timer. */
  clear(): void {
    for (const list of this.#lists.values()) {
      let entry = list.head;
      while (entry !== undefined) {
        const next = entry.timerNext;
        entry.timerList = entry.timerPrev = entry.timerNext = undefined;
        entry = next;
      }
    }
    this.#lists.clear();
    this.#size = 0;
    this.#disarm();
  }

  #arm(at: number): void {
    this.#disarm();
    this.#armedAt = at;
    this.#timer = this.#clock.setTimeout(this.#fire, Math.max(0, at - this.#clock.now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = this.#clock.now();
    const due: TimerEntry[] = [];
    let next = Infinity;
    for (const [key, list] of this.#lists) {
      let entry = list.head;
      while (entry !== undefined && entry.timerExpiresAt <= now) {
        const following: TimerEntry | undefined = entry.timerNext;
        this.cancel(entry);
        due.push(entry);
        entry = following;
      }
      if (list.head === undefined) this.#lists.delete(key);
      else if (list.head.timerExpiresAt < next) next = list.head.timerExpiresAt;
    }
    // Re-arm before running callbacks: a callback may schedule new entries.
    if (next !== Infinity) this.#arm(next);
    for (const entry of due) entry.onTimeout();
  }
}
