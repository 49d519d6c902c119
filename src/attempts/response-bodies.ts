import type { Balancer } from '../balancing/balancer.js';
import type { AbortWatch } from '../core/abort-watch.js';
import type { Attempt, Call } from './attempt.js';
import type { Clock } from '../core/clock.js';
import { isMeshkitError, MeshkitError, type MeshkitErrorCode } from '../core/errors.js';
import type { TimerQueue } from '../core/timer-queue.js';
import type { EndpointHealthFilter } from '../health/endpoint-health-filter.js';

/** What {@link ResponseBodies} works with: the executor's own parts. */
export interface ResponseBodiesSettings {
  readonly service: string;
  readonly clock: Clock;
  readonly timers: TimerQueue;
  readonly balancer: Balancer;
  readonly health: EndpointHealthFilter | undefined;
  /** The executor's watch on callers' signals: a call with an open body stays in it until the body is done. */
  readonly aborts: AbortWatch<Call>;
}

/**
 * Keeps a response body inside its call's bounds after the caller got the
 * headers. The transport holds the attempt's abort listener until the body
 * is done (read, dumped or destroyed) and then calls `removeListener`, which
 * ends the body here at no cost; until then:
 *
 * - the call's deadline: the attempt's own timer entry, re-armed for the
 *   deadline when the response is handed over, aborts the body with
 *   `ERR_DEADLINE_EXCEEDED`;
 * - the caller's signal: the call stays in the executor's abort watch past
 *   its end, and an abort reaches the body as `ERR_ABORTED`;
 * - an upstream failure of the body (a stall past the body timeout, a reset)
 *   counts against the endpoint, as one more upstream outcome.
 *
 * The deadline and the abort are the caller's doing: they move no shared
 * state. Only calls whose transport hands its attempt to undici (`request()`,
 * `fetch()`) have an open body; `call()` functions never do.
 */
export class ResponseBodies {
  readonly #service: string;
  readonly #clock: Clock;
  readonly #timers: TimerQueue;
  readonly #balancer: Balancer;
  readonly #health: EndpointHealthFilter | undefined;
  readonly #aborts: AbortWatch<Call>;

  constructor(settings: ResponseBodiesSettings) {
    this.#service = settings.service;
    this.#clock = settings.clock;
    this.#timers = settings.timers;
    this.#balancer = settings.balancer;
    this.#health = settings.health;
    this.#aborts = settings.aborts;
  }

  /**
   * The caller is about to get `attempt`'s response, whose body undici
   * still holds the attempt for (`attempt.listening`): the body opens. Costs a
   * flag, plus a timer queue entry when the call has a deadline; the
   * call stays watched for its caller's signal until the body is done.
   */
  open(call: Call, attempt: Attempt): void {
    attempt.bodyOpen = true;
    if (call.stopped !== undefined) {
      // Stopped after the attempt answered: the body does not outlive the stop.
      this.abort(attempt, call.stopped);
      return;
    }
    if (call.deadline !== Infinity) {
      // The end time is read at the attempt's end when something consumed it: reuse it rather than read the clock again.
      const now = attempt.endedAt === 0 ? this.#clock.now() : attempt.endedAt;
      this.#timers.schedule(attempt, Math.max(0, call.deadline - now), now);
    }
  }

  /** The body is done (undici let go of the attempt, or meshkit aborted it): drop its deadline and abort listener. */
  end(attempt: Attempt): void {
    if (!attempt.bodyOpen) return;
    attempt.bodyOpen = false;
    this.#timers.cancel(attempt);
    const { call } = attempt;
    if (call.signal !== undefined) this.#aborts.unwatch(call.signal, call);
  }

  /** The call's deadline passed while the body was open: the body errors and its connection is closed. */
  expire(attempt: Attempt): void {
    this.end(attempt);
    attempt.abort(this.#error(attempt, 'ERR_DEADLINE_EXCEEDED', 'deadline exceeded', undefined));
  }

  /**
   * The call was stopped (the caller's signal) while the body was open: the
   * body errors with `ERR_ABORTED` whose `cause` is the signal's reason, and
   * its connection is closed.
   */
  abort(attempt: Attempt, reason: Error): void {
    this.end(attempt);
    const code: MeshkitErrorCode = isMeshkitError(reason) && reason.code !== 'ERR_ABORTED' ? reason.code : 'ERR_ABORTED';
    const cause = isMeshkitError(reason, 'ERR_ABORTED') ? reason.cause : reason;
    attempt.abort(this.#error(attempt, code, code === 'ERR_ABORTED' ? 'aborted' : 'stopped', cause));
  }

  /**
   * The upstream failed the open body (the transport says so): one more
   * outcome for the endpoint's health and the balancer. The balancer settled
   * the attempt at its headers, so it sees a start and an end, which leaves
   * its in-flight count as it was.
   */
  failed(attempt: Attempt, error: unknown): void {
    const outcome = attempt.call.classifier.error(error);
    if (outcome.ok) return;
    const balancer = this.#balancer;
    if (balancer.onAttemptEnd !== undefined) {
      balancer.onAttemptStart?.(attempt);
      balancer.onAttemptEnd(attempt, outcome, this.#clock.now() - attempt.startedAt);
    }
    this.#health?.observe(attempt.endpoint, outcome);
  }

  #error(attempt: Attempt, code: MeshkitErrorCode, what: string, cause: unknown): MeshkitError {
    return new MeshkitError(
      code,
      `${this.#service}: ${what} while reading the response body of attempt ${attempt.number} from ${attempt.endpoint.id}`,
      { service: this.#service, endpoint: attempt.endpoint.id, attempt: attempt.number },
      // A deadline the caller set is the caller's doing, unless an attempt had failed by the upstream's; the client's own total is the upstream's.
      {
        ...(cause === undefined ? {} : { cause }),
        ...(code === 'ERR_DEADLINE_EXCEEDED' && attempt.call.deadlineIsCallers && !attempt.call.upstreamFailed ? { blame: 'caller' as const } : {}),
      },
    );
  }
}
