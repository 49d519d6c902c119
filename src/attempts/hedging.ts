import type { CallObserver } from '../core/call-observer.js';
import type { Outcome } from '../core/outcome.js';
import { TimerEntry, type TimerQueue } from '../core/timer-queue.js';
import { discardQuietly, type Attempt, type Call } from './attempt.js';
import type { AttemptRunner } from './attempt-runner.js';
import { hedgeLost } from './call-errors.js';
import type { HedgeSettings } from './hedge.js';
import type { LatencyWindow } from './latency-window.js';
import { RetryBudget } from './retry-budget.js';

/** Runs a callback when its time comes on the shared timer queue (the hedge delay). */
class Alarm extends TimerEntry {
  constructor(readonly ring: () => void) {
    super();
  }

  override onTimeout(): void {
    this.ring();
  }
}

/** @internal What {@link Hedging} is built from: the client's hedge settings and the executor's parts. */
export interface HedgingParts {
  readonly settings: HedgeSettings;
  /** The client's retry budget, which hedges spend from too; undefined when retries are not budgeted. */
  readonly retryBudget: RetryBudget | undefined;
  /** Recent successful latencies, when the delay follows a percentile (the executor records them). */
  readonly latency: LatencyWindow | undefined;
  readonly timers: TimerQueue;
  readonly runner: AttemptRunner;
  /** Telemetry, told of each hedge before it starts; undefined when none. */
  readonly observer: CallObserver | undefined;
}

/**
 * @internal Hedged calls (The Tail at Scale; Finagle's backup requests): if
 * an idempotent call's attempt has not answered after the hedge delay,
 * another goes to a different endpoint, within the hedge budget and the
 * retry budget. The first usable answer wins; the others are cancelled and
 * their responses released. The fast path arms the delay on its first
 * attempt's own timer entry, so a race is built only when it rings.
 */
export class Hedging {
  readonly #settings: HedgeSettings;
  readonly #budget: RetryBudget;
  readonly #retryBudget: RetryBudget | undefined;
  readonly #latency: LatencyWindow | undefined;
  readonly #timers: TimerQueue;
  readonly #runner: AttemptRunner;
  readonly #observer: CallObserver | undefined;

  constructor(parts: HedgingParts) {
    this.#settings = parts.settings;
    this.#budget = new RetryBudget(parts.settings.budget);
    this.#retryBudget = parts.retryBudget;
    this.#latency = parts.latency;
    this.#timers = parts.timers;
    this.#runner = parts.runner;
    this.#observer = parts.observer;
  }

  /** Counts a call that will be sent toward the hedge budget's request rate. */
  recordCall(now: number): void {
    this.#budget.recordCall(now);
  }

  /** Whether `call` may be hedged: it may be sent more than once, and its body again. */
  applies(call: Call): boolean {
    return call.idempotent && call.replayable;
  }

  /** The hedge delay for `call`'s first attempt; undefined when it is not hedged (or there is no latency estimate yet). */
  delayFor(call: Call): number | undefined {
    return call.idempotent && call.replayable ? this.#settings.delayMs ?? this.#latency?.value : undefined;
  }

  /** Hedges the hedge budget allows now. */
  remaining(now: number): number {
    return this.#budget.remaining(now);
  }

  /**
   * Hedges spend from their own budget and from the retry budget: together they never multiply load.
   * The hedge token is taken last, so a hedge the retry budget refuses costs the hedge budget nothing.
   */
  mayHedge(now: number): boolean {
    return this.#budget.canRetry(now) && (this.#retryBudget === undefined || this.#retryBudget.tryRetry(now)) && this.#budget.tryRetry(now);
  }

  /**
   * The fast path's hedge delay ran out while its first attempt is still in
   * flight: if a hedge may go out, the call becomes the race, which adopts
   * the running attempt and ends in `settled` (or `failed`); otherwise the
   * first attempt continues alone, as in the race.
   */
  due(first: Attempt, now: number, settled: (attempt: Attempt) => void, failed: (call: Call, error: unknown) => void): void {
    const call = first.call;
    if (call.current !== first || call.stopped !== undefined || this.#runner.closing() !== undefined || !this.mayHedge(now)) return;
    this.race(call, first).then(settled, (error: unknown) => failed(call, error));
  }

  /**
   * Runs the hedged race for `call`: from its first attempt, or, with
   * `adopted`, from the fast path's first attempt whose hedge delay rang
   * (the budgets allowed this hedge already). Resolves with the winner, or
   * the last retryable failure when every attempt failed (the retry loop
   * takes it from there).
   */
  race(call: Call, adopted?: Attempt): Promise<Attempt> {
    const settings = this.#settings;
    const runner = this.#runner;
    const delay = settings.delayMs ?? this.#latency?.value;
    if (delay === undefined) return runner.attempt(call); // no latency estimate yet
    call.hedges = adopted === undefined ? [] : [adopted];
    return new Promise<Attempt>((resolve, reject) => {
      let running = 0;
      let hedges = 0;
      let done = false;
      const finish = (winner: Attempt): void => {
        done = true;
        this.#timers.cancel(alarm);
        const others = call.hedges ?? [];
        call.hedges = undefined;
        call.current = winner;
        for (const other of others) {
          if (other === winner) continue;
          runner.cancel(other, hedgeLost(runner.service));
          if (other.response !== undefined) discardQuietly(call, other.response); // a throwing discard must not stop resolve(winner)
        }
        resolve(winner);
      };
      const settled = (attempt: Attempt): void => {
        running--;
        if (done) return;
        const outcome = attempt.outcome as Outcome;
        // A usable answer, or a failure no retry would fix, ends the race; a retryable failure waits for the others.
        if (outcome.ok || !outcome.retryable || running === 0) finish(attempt);
      };
      const launch = (first: boolean, pending = runner.attempt(call)): void => {
        running++;
        pending.then(settled, (error: unknown) => {
          running--;
          if (done) return;
          if (first || running === 0) {
            done = true;
            this.#timers.cancel(alarm);
            call.hedges = undefined;
            reject(error);
          }
        });
      };
      const hedge = (now: number): void => {
        call.tried = (call.hedges ?? []).map((a) => a.endpoint);
        hedges++;
        if (call.observed) this.#observer?.hedgeStart?.(call, hedges);
        launch(false);
        if (hedges < settings.max) this.#timers.schedule(alarm, delay, now);
      };
      const alarm = new Alarm(() => {
        if (done || call.stopped !== undefined || runner.closing() !== undefined) return;
        const now = runner.clock.now();
        if (this.mayHedge(now)) hedge(now);
      });
      if (adopted === undefined) {
        launch(true);
        if (!done) this.#timers.schedule(alarm, delay);
      } else {
        // The first attempt has run its delay already and the budgets allowed this hedge: the race starts with it.
        launch(true, new Promise<Attempt>((settle) => {
          adopted.settle = settle;
        }));
        hedge(runner.clock.now());
      }
    });
  }
}
