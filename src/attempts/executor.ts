import type { Balancer } from '../balancing/balancer.js';
import { admitAll, releaseAdmitted, type AdmissionGate } from '../core/admission.js';
import type { CallObserver } from '../core/call-observer.js';
import type { Clock } from '../core/clock.js';
import { channels } from '../core/diagnostics.js';
import type { Endpoint } from '../core/endpoint.js';
import { AbortWatch } from '../core/abort-watch.js';
import { invalidArgument, isMeshkitError, stampCall } from '../core/errors.js';
import { Outcomes, type Outcome } from '../core/outcome.js';
import type { TimerQueue } from '../core/timer-queue.js';
import type { EndpointHealthFilter } from '../health/endpoint-health-filter.js';
import { Attempt, discardQuietly, timeoutError, type AttemptOwner, type Call } from './attempt.js';
import type { AttemptRunner } from './attempt-runner.js';
import { ActiveCalls } from './active-calls.js';
import { ClassifierFailure, outcomeOfError, outcomeOfResponse } from './classify-safely.js';
import { outcomeOfGatewayTimeout, tooLateToSend } from './deadline-room.js';
import { abortedError, callError, classifierError, deadlineError, MISCLASSIFIED } from './call-errors.js';
import type { EndpointState } from './endpoint-state.js';
import type { ExecutorSettings } from './executor-settings.js';
import { waitForEndpoint } from './endpoint-wait.js';
import { Hedging } from './hedging.js';
import { LatencyWindow } from './latency-window.js';
import { DeferredRefusals } from './refusals.js';
import { ResponseBodies } from './response-bodies.js';
import { RetryBudget } from './retry-budget.js';
import { RetryLoop } from './retry-loop.js';
import type { TimeoutSettings } from './timeout.js';

/**
 * Runs calls through the attempt loop: pick an endpoint, time the attempt,
 * send it, classify the outcome once, feed it back, and retry on another
 * endpoint when that is allowed. The success path (here) makes one Attempt
 * object and one promise; the hedged race ({@link Hedging}), the retry loop
 * on p-retry ({@link RetryLoop}) and the wait for endpoints are entered only
 * when the fast path leaves off.
 */
export class Executor {
  readonly #service: string;
  readonly #clock: Clock;
  readonly #timers: TimerQueue;
  readonly #timeouts: TimeoutSettings;
  readonly #endpoints: EndpointState;
  readonly #balancer: Balancer;
  readonly #health: EndpointHealthFilter | undefined;
  readonly #budget: RetryBudget | undefined;
  /** Hedged calls, when configured. */
  readonly #hedging: Hedging | undefined;
  readonly #retryLoop: RetryLoop;
  /** What the hedged race, the retry loop and the wait for endpoints use of this executor. */
  readonly #runner: AttemptRunner;
  /** Recent successful latencies, when hedging follows a percentile. */
  readonly #latency: LatencyWindow | undefined;
  /** True when nothing runs between the call's start and the executor, so its start time can be reused. */
  readonly #firstAttemptAtStart: boolean;
  /** Admission gates, outermost first; undefined when there are none. */
  readonly #gates: readonly AdmissionGate[] | undefined;
  readonly #observer: CallObserver | undefined;
  /** Response bodies the callers are reading, kept within their calls' bounds. */
  readonly #bodies: ResponseBodies;
  /** Calls in flight, for close(). */
  readonly #active = new ActiveCalls();
  #closing: Error | undefined = undefined;
  /** One listener per caller signal, however many calls share it. */
  readonly #aborts = new AbortWatch<Call>((call, reason) => this.stop(call, abortedError(this.#service, reason)));
  /** Calls refused before any attempt, rejected together on the next macrotask. */
  readonly #refusals: DeferredRefusals;

  constructor(settings: ExecutorSettings) {
    this.#service = settings.service;
    this.#clock = settings.clock;
    this.#refusals = new DeferredRefusals(settings.clock);
    this.#timers = settings.timers;
    this.#timeouts = settings.timeouts;
    this.#endpoints = settings.endpoints;
    this.#balancer = settings.balancer;
    this.#health = settings.health;
    this.#budget = settings.retry.budget === undefined || settings.retry.attempts < 2 ? undefined : new RetryBudget(settings.retry.budget);
    this.#latency = settings.hedge?.percentile === undefined ? undefined : new LatencyWindow(settings.hedge.percentile);
    this.#runner = {
      service: settings.service,
      clock: settings.clock,
      closing: () => this.#closing,
      attempt: (call) => this.#attempt(call),
      cancel: (attempt, reason) => this.#cancel(attempt, reason),
    };
    const parts = { timers: settings.timers, runner: this.#runner, observer: settings.observer };
    this.#hedging = settings.hedge === undefined ? undefined : new Hedging({ ...parts, settings: settings.hedge, retryBudget: this.#budget, latency: this.#latency });
    this.#retryLoop = new RetryLoop({ ...parts, settings: settings.retry, budget: this.#budget, endpoints: settings.endpoints });
    this.#firstAttemptAtStart = settings.firstAttemptAtStart;
    this.#gates = settings.gates === undefined || settings.gates.length === 0 ? undefined : settings.gates;
    this.#observer = settings.observer;
    this.#bodies = new ResponseBodies({ ...settings, aborts: this.#aborts });
  }

  /** Calls in flight. */
  get active(): number {
    return this.#active.count;
  }

  /**
   * Runs one call to completion: resolves with the final response or rejects
   * with the final error. The common case (an endpoint at hand, no hedge)
   * makes one promise, the caller's, and settles it from the attempt's
   * callback; a retry, a hedge or a wait for endpoints goes on in
   * {@link #runSlow}.
   */
  run(call: Call): Promise<unknown> {
    if (this.#closing !== undefined) return Promise.reject(this.#closing);
    // Clock reads cost ~60-90 ns: reuse the call's start time when nothing ran since.
    call.admittedAt = this.#firstAttemptAtStart ? call.startedAt : this.#clock.now();
    this.#active.link(call);
    this.#capturing = call;
    const promise = new Promise<unknown>(this.#capture);
    const signal = call.signal;
    if (signal !== undefined) {
      try {
        if (signal.aborted) this.stop(call, abortedError(this.#service, signal.reason));
        else this.#aborts.watch(signal, call);
      } catch (error) {
        // A signal that cannot be listened to: the call must not stay linked, or close() never settles.
        this.#end(call, invalidArgument('options.signal', 'an AbortSignal that can be listened to', signal, { cause: error }), undefined, true);
        return promise;
      }
    }
    if (call.stopped !== undefined) this.#end(call, call.stopped, undefined, true);
    // An inherited deadline can be spent before the call starts: fail now rather than send work nobody awaits
    // (or, with under a millisecond left, a deadline header of 0 the next hop refuses).
    else if (tooLateToSend(call.deadline, call.admittedAt)) this.#end(call, deadlineError(this.#service, call, undefined, undefined), undefined, true);
    else if (this.#gates === undefined || this.#admit(call, this.#gates)) {
      try {
        const endpoint = this.#endpoints.picker?.pick(call);
        // Only calls that will be sent count toward the budgets' request rates: not one the pick refused
        // (an unknown subset), or malformed calls would buy retries and hedges for everyone.
        this.#budget?.recordCall(call.admittedAt);
        this.#hedging?.recordCall(call.admittedAt);
        if (endpoint === undefined) this.#runSlow(call).then(this.#onAttemptDone, (error: unknown) => this.#end(call, error, undefined, true));
        else {
          // A hedge is armed lazily, on the attempt's own timer entry: the race is set up only if its delay runs out first.
          const hedging = this.#hedging;
          const hedgeDelay = hedging === undefined ? undefined : hedging.delayFor(call);
          this.#launch(call, endpoint, this.#onFirstSettled, hedgeDelay);
        }
      } catch (error) {
        // A picker or balancer hook threw (a bad subset name, say): the caller gets it as a rejection.
        this.#end(call, error, undefined, true);
      }
    }
    return promise;
  }

  /**
   * Runs the admission gates, outermost first. On a refusal the call ends
   * with it, and the gates that admitted it release it (in {@link #end}).
   */
  #admit(call: Call, gates: readonly AdmissionGate[]): boolean {
    const refusal = admitAll(gates, call);
    if (refusal !== undefined) this.#end(call, refusal, undefined, true);
    return refusal === undefined;
  }

  /** The first attempt's end on the fast path: done, or on to the retry loop. */
  readonly #onFirstSettled = (attempt: Attempt): void => {
    const call = attempt.call;
    if ((attempt.outcome as Outcome).retryable && this.#retryLoop.mayRetry(call, attempt)) {
      this.#retryLoop.run(call, attempt).then(this.#onAttemptDone, (error: unknown) => this.#end(call, error, undefined, true));
    } else {
      this.#conclude(call, attempt);
    }
  };

  /** The final attempt is known: the call ends with its result. */
  readonly #onAttemptDone = (attempt: Attempt): void => this.#conclude(attempt.call, attempt);

  /** The slow start: a hedged first attempt, or one that waits for endpoints; then the retry loop if needed. */
  async #runSlow(call: Call): Promise<Attempt> {
    const hedging = this.#hedging;
    let attempt = hedging !== undefined && hedging.applies(call) ? await hedging.race(call) : await this.#attempt(call);
    if ((attempt.outcome as Outcome).retryable && this.#retryLoop.mayRetry(call, attempt)) attempt = await this.#retryLoop.run(call, attempt);
    return attempt;
  }

  /** Ends a call with its final attempt's result. */
  #conclude(call: Call, attempt: Attempt): void {
    if (call.stopped !== undefined && !(attempt.outcome as Outcome).ok) {
      // Stopped (aborted, or closed) after a failure: the caller learns why the call stopped, not the failure it cut short.
      if (attempt.response !== undefined) discardQuietly(call, attempt.response);
      this.#end(call, call.stopped, undefined, true);
    } else if (attempt.error !== undefined) {
      this.#end(call, callError(attempt), undefined, true);
    } else {
      // Only a response whose body undici still streams (request(), fetch()) has a body to keep in bounds.
      if (attempt.listening) this.#bodies.open(call, attempt);
      this.#end(call, undefined, attempt.response, false);
    }
  }

  /** Releases the call (abort listener, list of calls in flight), reports its end, then settles the caller's promise. */
  #end(call: Call, error: unknown, value: unknown, failed: boolean): void {
    if (call.rejectCall === undefined) return; // ended already
    // A body handed to the caller keeps the call watched: its signal still aborts the body (see ResponseBodies).
    if (call.signal !== undefined && call.current?.bodyOpen !== true) this.#aborts.unwatch(call.signal, call);
    this.#active.unlink(call);
    if (failed && isMeshkitError(error)) stampCall(error, this.#service, call.attempts, call.current?.endpoint.id);
    // The gates see the result before the caller does.
    if (this.#gates !== undefined) releaseAdmitted(this.#gates, call, failed ? error : undefined);
    if (channels.callEnd.hasSubscribers) channels.callEnd.publish({ call, endedAt: this.#clock.now(), error: failed ? error : undefined });
    const resolve = call.resolveCall as (value: unknown) => void;
    const reject = call.rejectCall as (error: unknown) => void;
    if (failed && call.attempts === 0) return this.#refusals.add(call, error);
    call.resolveCall = call.rejectCall = undefined;
    if (failed) reject(error);
    else resolve(value);
  }

  /** Ends a call with an error that stopped its attempt loop. */
  readonly #endWith = (call: Call, error: unknown): void => this.#end(call, error, undefined, true);

  /** The call whose promise {@link #capture} is creating (a shared executor function: no closure per call). */
  #capturing: Call | undefined = undefined;
  readonly #capture = (resolve: (value: unknown) => void, reject: (error: unknown) => void): void => {
    const call = this.#capturing as Call;
    this.#capturing = undefined;
    call.resolveCall = resolve;
    call.rejectCall = reject;
  };

  /** Stops a call: no new attempt starts, the one in flight is aborted, a pause ends. */
  stop(call: Call, reason: Error): void {
    if (call.stopped !== undefined) return;
    call.stopped = reason;
    // An abort after the call returned its response reaches the body being read.
    if (call.current?.bodyOpen === true) this.#bodies.abort(call.current, reason);
    for (const attempt of call.hedges ?? (call.current === undefined ? [] : [call.current])) this.#cancel(attempt, reason);
    call.pause?.wake();
  }

  /** Ends an attempt still in flight as aborted (its late response, if any, is discarded on arrival). */
  #cancel(attempt: Attempt, reason: Error): void {
    if (attempt.outcome !== undefined) return;
    // The caller's abort is the caller's doing; close() and a lost hedge race are meshkit's.
    this.#finish(attempt, isMeshkitError(reason) && reason.blame === 'caller' ? Outcomes.aborted : Outcomes.cancelled, undefined, reason);
    attempt.abort(reason);
  }

  /** Refuses new calls and stops every call in flight with `reason`. */
  stopAll(reason: Error): void {
    this.#closing = reason;
    // Stopping a call may end it at once (unlinking it), so read the next link first.
    for (let call = this.#active.first, next: Call | undefined; call !== undefined; call = next) {
      next = call.activeNext;
      this.stop(call, reason);
    }
  }

  /** Refuses new calls from now on with `reason`; calls in flight continue but start no retries. */
  refuseNew(reason: Error): void {
    this.#closing = reason;
  }

  /** Resolves when no call is in flight. */
  idle(): Promise<void> {
    return this.#active.idle();
  }

  /** Picks an endpoint and starts one attempt; rejects only when no endpoint can be had. */
  #attempt(call: Call): Promise<Attempt> {
    const endpoint = this.#endpoints.picker?.pick(call);
    if (endpoint !== undefined) return this.#start(call, endpoint);
    return waitForEndpoint(call, this.#endpoints, this.#runner).then((found) => this.#start(call, found));
  }

  /** Starts one attempt on `endpoint`; the promise never rejects: the attempt carries its result. */
  #start(call: Call, endpoint: Endpoint): Promise<Attempt> {
    return new Promise<Attempt>((resolve) => this.#launch(call, endpoint, resolve));
  }

  /**
   * Starts one attempt on `endpoint`; `settle` runs once when it ends (the
   * attempt carries its result). With `hedgeDelay` (the fast path's first
   * attempt of a hedged call) the attempt's timer entry rings first at the
   * hedge delay, then again at its timeout: one entry, no alarm object.
   */
  #launch(call: Call, endpoint: Endpoint, settle: (attempt: Attempt) => void, hedgeDelay?: number): void {
    // Clock reads cost ~60-90 ns: the fast path's first attempt starts when the call was admitted.
    const now = settle === this.#onFirstSettled ? call.admittedAt : this.#clock.now();
    const attempt = new Attempt(call, ++call.attempts, endpoint, now, this.#owner);
    call.current = attempt;
    call.hedges?.push(attempt);
    attempt.arm(this.#timers, this.#timeouts.perTry, hedgeDelay, now);
    this.#balancer.onAttemptStart?.(attempt);
    if (channels.attemptStart.hasSubscribers) channels.attemptStart.publish(attempt);
    if (call.observed) this.#observer?.attemptStart?.(attempt);
    attempt.settle = settle;
    const transport = call.transport;
    if (transport.start !== undefined) {
      // The callback form: the transport reports to the attempt; no promise or closure per attempt.
      try {
        transport.start(endpoint, call.request, attempt);
      } catch (thrown) {
        Promise.reject(thrown).catch((error: unknown) => this.#owner.error(attempt, error));
      }
      return;
    }
    let sent: Promise<unknown>;
    try {
      sent = transport.send(endpoint, call.request, attempt);
    } catch (thrown) {
      sent = Promise.reject(thrown);
    }
    sent.then(
      (response) => this.#owner.response(attempt, response),
      (error: unknown) => this.#owner.error(attempt, error),
    );
  }

  /** Where attempts report: the transport's answer or failure, and the attempt's timer. */
  readonly #owner: AttemptOwner = {
    response: (attempt, response) => {
      if (attempt.outcome !== undefined) return discardQuietly(attempt.call, response); // settled already (timed out, aborted): nobody will read it
      const outcome = outcomeOfResponse(attempt.call, response);
      if (outcome instanceof ClassifierFailure) return this.#misclassified(attempt, outcome, response);
      this.#finish(attempt, outcome.status === 504 ? outcomeOfGatewayTimeout(attempt.call, outcome, this.#clock) : outcome, response, undefined);
    },
    error: (attempt, error) => {
      if (attempt.outcome !== undefined) return;
      const outcome = outcomeOfError(attempt.call, error);
      if (outcome instanceof ClassifierFailure) return this.#misclassified(attempt, outcome, undefined);
      this.#finish(attempt, outcome, undefined, error);
    },
    timeout: (attempt) => (attempt.bodyOpen ? this.#bodies.expire(attempt) : this.#timeout(attempt)),
    bodyEnd: (attempt) => this.#bodies.end(attempt),
    bodyFailed: (attempt, error) => this.#bodies.failed(attempt, error),
  };

  /** The call's classifier failed on the attempt's result: the attempt fails as the caller's doing, unretried (see ClassifierFailure). */
  #misclassified(attempt: Attempt, failure: ClassifierFailure, response: unknown): void {
    if (response !== undefined) discardQuietly(attempt.call, response); // the caller gets the error, not this value
    this.#finish(attempt, MISCLASSIFIED, undefined, classifierError(attempt, failure.option, failure.thrown));
  }

  /** Settles an attempt exactly once and feeds its classification back. */
  #finish(attempt: Attempt, outcome: Outcome, response: unknown, error: unknown): void {
    attempt.outcome = outcome;
    attempt.response = response;
    attempt.error = error;
    this.#timers.cancel(attempt);
    const balancer = this.#balancer;
    const publish = channels.attemptEnd.hasSubscribers;
    const observer = attempt.call.observed ? this.#observer : undefined;
    // The end time is read only when someone consumes it.
    if (balancer.onAttemptEnd !== undefined || publish || this.#latency !== undefined || observer !== undefined) {
      attempt.endedAt = this.#clock.now();
      const duration = attempt.endedAt - attempt.startedAt;
      balancer.onAttemptEnd?.(attempt, outcome, duration);
      if (outcome.ok) this.#latency?.record(duration);
      if (publish) channels.attemptEnd.publish(attempt);
      observer?.attemptEnd?.(attempt);
    }
    // Only the upstream's doing moves shared state; balancers, which count attempts in flight, check `blame` themselves.
    if (outcome.blame === 'upstream') {
      this.#health?.observe(attempt.endpoint, outcome);
      if (outcome.reason === 'connect') this.#endpoints.onConnectFailure();
      if (!outcome.ok) attempt.call.upstreamFailed = true;
    }
    const settle = attempt.settle as (attempt: Attempt) => void;
    attempt.settle = undefined;
    settle(attempt);
  }

  #timeout(attempt: Attempt): void {
    if (attempt.outcome !== undefined) return;
    if (attempt.hedgeDue) {
      // The hedge delay ran out first: re-arm the entry for the timeout, then maybe hedge.
      attempt.hedgeDue = false;
      const now = this.#clock.now();
      if (attempt.timeoutAt !== Infinity) this.#timers.schedule(attempt, Math.max(0, attempt.timeoutAt - now), now);
      (this.#hedging as Hedging).due(attempt, now, this.#onFirstSettled, this.#endWith);
      return;
    }
    const call = attempt.call;
    const error = timeoutError(attempt, this.#timeouts.perTry);
    // The attempt's own outcome: cut short by the caller's deadline, it says nothing of its endpoint,
    // even when the call's error is the upstream's (an earlier attempt failed by its doing).
    const outcome = !attempt.timerIsDeadline ? Outcomes.timeout : call.deadlineIsCallers ? Outcomes.deadline : Outcomes.totalTimeout;
    this.#finish(attempt, outcome, undefined, error);
    attempt.abort(error);
  }

  /** Retries the budget allows now; undefined when retries are not budgeted. */
  retryBudgetRemaining(): number | undefined {
    return this.#budget?.remaining(this.#clock.now());
  }

  /** Hedges the hedge budget allows now; undefined when hedging is off. */
  hedgeBudgetRemaining(): number | undefined {
    return this.#hedging?.remaining(this.#clock.now());
  }
}
