import type { CallObserver } from '../core/call-observer.js';
import { isSafeToRetryAnyMethod, type Outcome } from '../core/outcome.js';
import type { Attempt, Call } from './attempt.js';
import type { AttemptRunner } from './attempt-runner.js';
import { deadlineError } from './call-errors.js';
import { tooLateToSend } from './deadline-room.js';
import type { EndpointState } from './endpoint-state.js';
import { Pause } from './pause.js';
import { backoffDelay, type RetrySettings } from './retry.js';
import { requestedPause } from './retry-after.js';
import type { RetryBudget } from './retry-budget.js';

/** Why the retry loop ends without another attempt. */
type StopReason = 'deadline' | 'budget' | 'stopped' | 'retry-after';

/** @internal What {@link RetryLoop} is built from: the client's retry settings and the executor's parts. */
export interface RetryLoopParts {
  readonly settings: RetrySettings;
  /** The client's retry budget; undefined when retries are not budgeted. */
  readonly budget: RetryBudget | undefined;
  /** The endpoint set (a lone endpoint honours Retry-After more strictly). */
  readonly endpoints: EndpointState;
  readonly runner: AttemptRunner;
  /** Telemetry, told when the budget refuses a retry; undefined when none. */
  readonly observer: CallObserver | undefined;
}

/**
 * @internal The retry loop, entered only after a first retryable failure.
 * It counts the attempts and stops on a non-retryable result; the backoff is
 * meshkit's own (full jitter on the injected clock, a Retry-After honoured,
 * bounded by the deadline, cut short by abort or close, paid for from the
 * retry budget). No retry library: p-retry, used before, read the global
 * `performance.now()` on every retry, past the injected clock.
 */
export class RetryLoop {
  readonly #settings: RetrySettings;
  readonly #budget: RetryBudget | undefined;
  readonly #endpoints: EndpointState;
  readonly #runner: AttemptRunner;
  readonly #observer: CallObserver | undefined;

  constructor(parts: RetryLoopParts) {
    this.#settings = parts.settings;
    this.#budget = parts.budget;
    this.#endpoints = parts.endpoints;
    this.#runner = parts.runner;
    this.#observer = parts.observer;
  }

  /**
   * Whether a retryable failure of `attempt` may be retried: attempts left,
   * the call not stopped, the client not closing, the body replayable, and
   * the call idempotent or the request never sent (a refused connection).
   */
  mayRetry(call: Call, attempt: Attempt): boolean {
    return call.attempts < this.#settings.attempts
      && call.stopped === undefined
      && this.#runner.closing() === undefined
      && call.replayable
      && (call.idempotent || isSafeToRetryAnyMethod(attempt.outcome as Outcome));
  }

  /** Retries `call` after its attempt `first` failed retryably; resolves with the final attempt. */
  async run(call: Call, first: Attempt): Promise<Attempt> {
    let last = first;
    // One retry per pass; mayRetry (attempts left, not stopped or closing, ...) bounds the passes.
    for (;;) {
      const stop = await this.#backOff(call);
      if (stop !== undefined) {
        // The deadline left no room for another attempt after a failure without a response: that is the caller's answer.
        if (stop === 'deadline' && last.error !== undefined && call.stopped === undefined) {
          throw deadlineError(this.#runner.service, call, last.error, last.outcome);
        }
        return last;
      }
      // Committed to a new attempt: release the failed response and move on from its endpoint.
      if (last.response !== undefined) call.transport.discard(last.response);
      (call.tried ??= []).push(last.endpoint);
      last = await this.#runner.attempt(call);
      if (!(last.outcome as Outcome).retryable || !this.mayRetry(call, last)) return last;
    }
  }

  /** Sleeps the jittered backoff; says why no further attempt may start (deadline, budget, abort, close), or undefined to go on. */
  async #backOff(call: Call): Promise<StopReason | undefined> {
    const clock = this.#runner.clock;
    let delay = backoffDelay(this.#settings, call.attempts, clock.random());
    // A Retry-After the server sent sets the pause; one longer than we are willing to wait ends the retries with that answer.
    const asked = call.current === undefined ? undefined : requestedPause(call.current, this.#endpoints.endpoints.length <= 1, clock);
    if (asked !== undefined) {
      if (asked > this.#settings.maxRetryAfterMs) return 'retry-after';
      delay = Math.max(delay, asked);
    }
    const now = clock.now();
    if (tooLateToSend(call.deadline, now + delay)) return asked !== undefined && asked > 0 ? 'retry-after' : 'deadline';
    // A spent budget ends the call with its last result at once, not after a backoff for nothing.
    if (this.#budget !== undefined && !this.#budget.canRetry(now)) return this.#budgetRefused(call);
    if (delay > 0) await new Pause(clock, call).wait(delay);
    if (call.stopped !== undefined || this.#runner.closing() !== undefined) return 'stopped';
    const after = clock.now();
    if (tooLateToSend(call.deadline, after)) return 'deadline';
    // The token is taken only now, for a retry that will start: an abort or close during the backoff costs none.
    if (this.#budget !== undefined && !this.#budget.tryRetry(after)) return this.#budgetRefused(call);
    return undefined;
  }

  #budgetRefused(call: Call): 'budget' {
    if (call.observed) this.#observer?.retryBudgetExhausted?.(call);
    return 'budget';
  }
}
