import type { Clock, TimerHandle } from '../core/clock.js';
import { checkOptions, readNumber } from '../core/options.js';
import { seededRandom, streamSeed, type RandomSource } from './random.js';
import { TimerHeap, type HeapEvent } from './timer-heap.js';

// Captured when the module loads: the loop yields to the real event loop
// through these even when a test has replaced the globals with ones that throw.
const realSetImmediate = globalThis.setImmediate;

/** The stream `clock.random()` draws from (meshkit's own jitter and picks). */
const CLOCK_STREAM = 'meshkit';

/** Instants run per turn of Node's event loop (see `run`). */
const BATCH = 256;

/** Wall-clock time, in epoch ms, that virtual time 0 stands for (2026-01-01T00:00:00Z). */
export const SIM_EPOCH_MS = 1_767_225_600_000;

/** Options of {@link SimLoop}. */
export interface SimLoopOptions {
  /** Seed of every random stream; the same seed gives the same run. Default 1. */
  readonly seed?: number;
}

/** A {@link Clock} on a {@link SimLoop}, with the wall time the simulation stands for. */
export interface SimClock extends Clock {
  /** Epoch milliseconds: {@link SIM_EPOCH_MS} plus the virtual time. */
  wallNow(): number;
}

/**
 * A discrete-event loop in virtual time. Events wait in a heap ordered by
 * (time, order scheduled); `run()` takes them out in order and sets the
 * virtual time to each one's. Between two distinct instants it yields to
 * Node's real event loop once, so every promise reaction the events caused
 * settles before time moves on: async code sees the same order as in
 * production, and nothing ever waits in wall time.
 *
 * Nothing here reads the wall clock or uses a global timer, so a run is
 * fully determined by the scenario and the seed.
 */
export class SimLoop {
  readonly seed: number;
  /** The clock to hand to meshkit (`.clock(loop.clock)`): virtual time, the `meshkit` random stream. */
  readonly clock: SimClock;
  #now = 0;
  #seq = 0;
  #heap = new TimerHeap();
  #eventsRun = 0;
  #running = false;
  #stopped = false;
  #generation = 0;

  constructor(options: SimLoopOptions = {}) {
    const checked = checkOptions(options, 'SimLoop options', ['seed']);
    this.seed = readNumber(checked.seed, 'seed', 1, { integer: true, min: 0, max: 0xffffffff });
    const random = this.random(CLOCK_STREAM);
    const loop = this;
    this.clock = Object.freeze({
      now: () => loop.#now,
      wallNow: () => SIM_EPOCH_MS + loop.#now,
      random,
      setTimeout: (callback: () => void, ms: number): TimerHandle => loop.after(ms, callback),
      clearTimeout: (handle: TimerHandle): void => loop.cancel(handle),
      defer: (callback: () => void): void => {
        loop.after(0, callback);
      },
    });
  }

  /** The virtual time, in ms since the start. */
  now(): number {
    return this.#now;
  }

  /** Events run so far. */
  get eventsRun(): number {
    return this.#eventsRun;
  }

  /** Events waiting. */
  get pending(): number {
    return this.#heap.size;
  }

  /** An independent seeded stream named `name` (the same name and seed always give the same numbers). */
  random(name: string): RandomSource {
    return seededRandom(streamSeed(this.seed, name));
  }

  /** Runs `callback` at virtual time `time` (now, if `time` is in the past). */
  at(time: number, callback: () => void): TimerHandle {
    const event: HeapEvent = { at: time > this.#now ? time : this.#now, seq: this.#seq++, callback };
    this.#heap.push(event);
    return event;
  }

  /** Runs `callback` `ms` from now (a negative or NaN delay means now). */
  after(ms: number, callback: () => void): TimerHandle {
    return this.at(ms > 0 ? this.#now + ms : this.#now, callback);
  }

  /** Cancels an event scheduled with {@link at} or {@link after}; a handle from elsewhere is ignored. */
  cancel(handle: TimerHandle): void {
    if (typeof handle === 'object' && handle !== null && 'seq' in handle) this.#heap.cancel(handle as HeapEvent);
  }

  /** Makes a running {@link run} return after the current instant. */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Runs events in time order until none is due at or before `until` (default:
   * until none is left), then sets the time to `until` when it is finite.
   * Rejects with the first error an event throws.
   */
  run(until = Infinity): Promise<void> {
    if (this.#running) return Promise.reject(new Error('SimLoop.run() is already running'));
    this.#running = true;
    this.#stopped = false;
    const generation = ++this.#generation;
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: unknown): void => {
        this.#running = false;
        this.#generation++;
        if (error === undefined) resolve();
        else reject(error instanceof Error ? error : new Error(String(error)));
      };
      // One instant per immediate. Node drains the microtask queue after each
      // immediate, so promise reactions settle between instants; immediates
      // queued together run in one turn of the real loop, which makes a turn
      // (and its poll) cost per BATCH instants instead of per instant.
      const step = (last: boolean): void => {
        if (generation !== this.#generation) return;
        const next = this.#heap.peek();
        if (next === undefined || next.at > until || this.#stopped) {
          if (until !== Infinity && !this.#stopped && until > this.#now) this.#now = until;
          finish();
          return;
        }
        try {
          this.#runInstant(next.at);
        } catch (error) {
          finish(error ?? new Error('an event threw'));
          return;
        }
        if (last) queueBatch();
      };
      const queueBatch = (): void => {
        for (let index = 1; index < BATCH; index++) realSetImmediate(step, false);
        realSetImmediate(step, true);
      };
      queueBatch();
    });
  }

  /** Runs every event due at `instant`, including those it schedules for the same instant. */
  #runInstant(instant: number): void {
    this.#now = instant;
    for (let event = this.#heap.peek(); event !== undefined && event.at === instant; event = this.#heap.peek()) {
      this.#heap.pop();
      const callback = event.callback!;
      event.callback = undefined;
      this.#eventsRun++;
      callback();
    }
  }
}

