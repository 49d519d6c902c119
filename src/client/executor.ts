import pRetry from 'p-retry';
import type { Balancer } from '../balancing/balancer.js';
import { admitSafely, releaseSafely, type AdmissionGate } from '../core/admission.js';
import { Attempt, timeoutError, type AttemptOwner } from '../core/attempt.js';
import type { CallContext } from '../core/call-context.js';
import type { CallObserver } from '../core/call-observer.js';
import type { Clock } from '../core/clock.js';
import { channels } from '../core/diagnostics.js';
import type { Endpoint } from '../core/endpoint.js';
import { AbortWatch } from '../core/abort-watch.js';
import { invalidArgument, isMeshkitError, MeshkitError, stampCall } from '../core/errors.js';
import { isSafeToRetryAnyMethod, Outcomes, type Outcome } from '../core/outcome.js';
import { Pause } from '../core/pause.js';
import { TimerEntry, type TimerQueue } from '../core/timer-queue.js';
import type { EndpointHealthFilter } from '../health/endpoint-health-filter.js';
import { backoffDelay, type RetrySettings } from '../policies/retry.js';
import type { HedgeSettings } from '../policies/hedge.js';
import { LatencyWindow } from '../policies/latency-window.js';
import { requestedPause } from '../policies/retry-after.js';
import { RetryBudget } from '../policies/retry-budget.js';
import type { TimeoutSettings } from '../policies/timeout.js';
import type { EndpointState } from './endpoint-state.js';
import { ResponseBodies } from './response-bodies.js';

/** How long a call waits for discovery's first set when it has no deadline of its own. */
const FIRST_SET_WAIT_MS = 10_000;

/** Thrown inside p-retry to ask for another attempt; carries the attempt that failed. */
class RetryableFailure extends Error {
  constructor(readonly attempt: Attempt) {
    super('retryable failure');
  }
}

/** Thrown inside p-retry when no further attempt may start (deadline, abort, close). */
class StopRetrying extends Error {
  constructor(readonly reason: StopReason) {
    super(reason);
  }
}

/** Runs a callback when its time comes on the shared timer queue (the hedge delay). */
class Alarm extends TimerEntry {
  constructor(readonly ring: () => void) {
    super();
  }

  override onTimeout(): void {
    this.ring();
  }
}

/** Why the retry loop ends without another attempt. */
type StopReason = 'deadline' | 'budget' | 'stopped' | 'retry-after';

export interface ExecutorSettings {
  readonly service: string;
  readonly clock: Clock;
  readonly timers: TimerQueue;
  readonly timeouts: TimeoutSettings;
  readonly retry: RetrySettings;
  readonly endpoints: EndpointState;
  readonly balancer: Balancer;
  /** The endpoint health filter, when configured: sees every attempt's outcome. */
  readonly health: EndpointHealthFilter | undefined;
  /** Hedging, when configured. */
  readonly hedge: HedgeSettings | undefined;
  /** No `wrap` policy sits between the client and the executor (so a call reaches it when it starts). */
  readonly firstAttemptAtStart: boolean;
  /** The admission gates at the inner end of the pipeline, outermost first, run in line (see core/admission.ts). */
  readonly gates?: readonly AdmissionGate[];
  /** Telemetry watching attempts (already guarded against throwing); undefined when none. */
  readonly observer: CallObserver | undefined;
}

/**
 * Runs calls through the attempt loop: pick an endpoint, time the attempt,
 * send it, classify the outcome once, feed it back, and retry on another
 * endpoint when that is allowed. The success path makes one Attempt object
 * and one promise; p-retry is entered only after a first retryable failure.
 */
export class Executor {
  readonly #service: string;
  readonly #clock: Clock;
  readonly #timers: TimerQueue;
  readonly #timeouts: TimeoutSettings;
  readonly #retry: RetrySettings;
  readonly #endpoints: EndpointState;
  readonly #balancer: Balancer;
  readonly #health: EndpointHealthFilter | undefined;
  readonly #budget: RetryBudget | undefined;
  readonly #hedge: HedgeSettings | undefined;
  readonly #hedgeBudget: RetryBudget | undefined;
  /** Recent successful latencies, when hedging follows a percentile. */
  readonly #latency: LatencyWindow | undefined;
  /** True when nothing runs between the call's start and the executor, so its start time can be reused. */
  readonly #firstAttemptAtStart: boolean;
  /** Admission gates, outermost first; undefined when there are none. */
  readonly #gates: readonly AdmissionGate[] | undefined;
  readonly #observer: CallObserver | undefined;
  /** Response bodies the callers are reading, kept within their calls' bounds. */
  readonly #bodies: ResponseBodies;
  #active: CallContext | undefined = undefined;
  #activeCount = 0;
  #idle: (() => void) | undefined = undefined;
  #closing: Error | undefined = undefined;
  /** One listener per caller signal, however many calls share it. */
  readonly #aborts = new AbortWatch<CallContext>((call, reason) => this.stop(call, abortedError(this.#service, reason)));
  /** Calls refused before any attempt, rejected together on the next macrotask (see {@link #refuseLater}). */
  #refused: CallContext[] = [];
  #refusedErrors: unknown[] = [];

  constructor(settings: ExecutorSettings) {
    this.#service = settings.service;
    this.#clock = settings.clock;
    this.#timers = settings.timers;
    this.#timeouts = settings.timeouts;
    this.#retry = settings.retry;
    this.#endpoints = settings.endpoints;
    this.#balancer = settings.balancer;
    this.#health = settings.health;
    this.#budget = settings.retry.budget === undefined || settings.retry.attempts < 2 ? undefined : new RetryBudget(settings.retry.budget);
    this.#hedge = settings.hedge;
    this.#hedgeBudget = settings.hedge === undefined ? undefined : new RetryBudget(settings.hedge.budget);
    this.#latency = settings.hedge?.percentile === undefined ? undefined : new LatencyWindow(settings.hedge.percentile);
    this.#firstAttemptAtStart = settings.firstAttemptAtStart;
    this.#gates = settings.gates === undefined || settings.gates.length === 0 ? undefined : settings.gates;
    this.#observer = settings.observer;
    this.#bodies = new ResponseBodies({ ...settings, aborts: this.#aborts });
  }

  /** Calls in flight. */
  get active(): number {
    return this.#activeCount;
  }

  /**
   * Runs one call to completion: resolves with the final response or rejects
   * with the final error. The common case (an endpoint at hand, no hedge)
   * makes one promise, the caller's, and settles it from the attempt's
   * callback; a retry, a hedge or a wait for endpoints goes on in
   * {@link #runSlow}.
   */
  run(call: CallContext): Promise<unknown> {
    if (this.#closing !== undefined) return Promise.reject(this.#closing);
    // Clock reads cost ~60-90 ns: reuse the call's start time when nothing ran since.
    call.admittedAt = this.#firstAttemptAtStart ? call.startedAt : this.#clock.now();
    this.#link(call);
    const signal = call.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.stop(call, abortedError(this.#service, signal.reason));
      else this.#aborts.watch(signal, call);
    }
    this.#capturing = call;
    const promise = new Promise<unknown>(this.#capture);
    if (call.stopped !== undefined) this.#end(call, call.stopped, undefined, true);
    // An inherited deadline can be spent before the call starts: fail now rather than send work nobody awaits.
    else if (call.deadline <= call.admittedAt) this.#end(call, deadlineError(this.#service, call, undefined, undefined), undefined, true);
    else if (this.#gates === undefined || this.#admit(call, this.#gates)) {
      // Only calls that will be sent count toward the budgets' request rates.
      this.#budget?.recordCall(call.admittedAt);
      this.#hedgeBudget?.recordCall(call.admittedAt);
      try {
        const endpoint = this.#endpoints.picker?.pick(call);
        if (endpoint === undefined) this.#runSlow(call).then(this.#onAttemptDone, (error: unknown) => this.#end(call, error, undefined, true));
        else {
          // A hedge is armed lazily, on the attempt's own timer entry: the race is set up only if its delay runs out first.
          const hedge = this.#hedge;
          const hedgeDelay = hedge !== undefined && call.idempotent && call.replayable ? hedge.delayMs ?? this.#latency?.value : undefined;
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
  #admit(call: CallContext, gates: readonly AdmissionGate[]): boolean {
    for (let i = 0; i < gates.length; i++) {
      const refusal = admitSafely(gates[i] as AdmissionGate, call);
      if (refusal !== undefined) {
        this.#end(call, refusal, undefined, true);
        return false;
      }
      call.admitted = i + 1;
    }
    return true;
  }

  /** The first attempt's end on the fast path: done, or on to the retry loop. */
  readonly #onFirstSettled = (attempt: Attempt): void => {
    const call = attempt.call;
    if ((attempt.outcome as Outcome).retryable && this.#mayRetry(call, attempt)) {
      this.#retryLoop(call, attempt).then(this.#onAttemptDone, (error: unknown) => this.#end(call, error, undefined, true));
    } else {
      this.#conclude(call, attempt);
    }
  };

  /** The final attempt is known: the call ends with its result. */
  readonly #onAttemptDone = (attempt: Attempt): void => this.#conclude(attempt.call, attempt);

  /** The slow start: a hedged first attempt, or one that waits for endpoints; then the retry loop if needed. */
  async #runSlow(call: CallContext): Promise<Attempt> {
    let attempt = this.#hedge !== undefined && call.idempotent && call.replayable
      ? await this.#hedged(call, this.#hedge)
      : await this.#attempt(call);
    if ((attempt.outcome as Outcome).retryable && this.#mayRetry(call, attempt)) attempt = await this.#retryLoop(call, attempt);
    return attempt;
  }

  /** Ends a call with its final attempt's result. */
  #conclude(call: CallContext, attempt: Attempt): void {
    if (call.stopped !== undefined && !(attempt.outcome as Outcome).ok) {
      // Stopped (aborted, or closed) after a failure: the caller learns why the call stopped, not the failure it cut short.
      if (attempt.response !== undefined) call.transport.discard(attempt.response);
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
  #end(call: CallContext, error: unknown, value: unknown, failed: boolean): void {
    if (call.rejectCall === undefined) return; // ended already
    // A body handed to the caller keeps the call watched: its signal still aborts the body (see ResponseBodies).
    if (call.signal !== undefined && call.current?.bodyOpen !== true) this.#aborts.unwatch(call.signal, call);
    this.#unlink(call);
    if (failed && isMeshkitError(error)) stampCall(error, this.#service, call.attempts, call.current?.endpoint.id);
    // The gates see the result before the caller does, innermost first, as `wrap` stages would.
    const gates = this.#gates;
    if (gates !== undefined) {
      const reported = failed ? error : undefined;
      for (let i = call.admitted - 1; i >= 0; i--) releaseSafely(gates[i] as AdmissionGate, call, reported);
      call.admitted = 0;
    }
    if (channels.callEnd.hasSubscribers) channels.callEnd.publish({ call, endedAt: this.#clock.now(), error: failed ? error : undefined });
    const resolve = call.resolveCall as (value: unknown) => void;
    const reject = call.rejectCall as (error: unknown) => void;
    if (failed && call.attempts === 0) return this.#refuseLater(call, error);
    call.resolveCall = call.rejectCall = undefined;
    if (failed) reject(error);
    else resolve(value);
  }

  /**
   * A call that ends before any attempt (no endpoints, a breaker or limit
   * refusing, the client closed, a spent deadline) would otherwise settle in
   * microtasks only: a caller retrying in a tight loop would then never let
   * the event loop run discovery, health checks or timers. Such refusals are
   * rejected together on the next macrotask; calls that made an attempt
   * waited for I/O already and settle at once. Costs nothing on the success path.
   */
  #refuseLater(call: CallContext, error: unknown): void {
    this.#refused.push(call);
    this.#refusedErrors.push(error);
    if (this.#refused.length > 1) return;
    const clock = this.#clock;
    if (clock.defer !== undefined) clock.defer(this.#rejectRefused);
    else clock.setTimeout(this.#rejectRefused, 0, true);
  }

  readonly #rejectRefused = (): void => {
    const calls = this.#refused;
    const errors = this.#refusedErrors;
    this.#refused = [];
    this.#refusedErrors = [];
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i] as CallContext;
      const reject = call.rejectCall as (error: unknown) => void;
      call.resolveCall = call.rejectCall = undefined;
      reject(errors[i]);
    }
  };

  /** The call whose promise {@link #capture} is creating (a shared executor function: no closure per call). */
  #capturing: CallContext | undefined = undefined;
  readonly #capture = (resolve: (value: unknown) => void, reject: (error: unknown) => void): void => {
    const call = this.#capturing as CallContext;
    this.#capturing = undefined;
    call.resolveCall = resolve;
    call.rejectCall = reject;
  };

  /** Stops a call: no new attempt starts, the one in flight is aborted, a pause ends. */
  stop(call: CallContext, reason: Error): void {
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
    for (let call = this.#active, next: CallContext | undefined; call !== undefined; call = next) {
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
    if (this.#activeCount === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#idle;
      this.#idle = () => {
        previous?.();
        resolve();
      };
    });
  }

  #link(call: CallContext): void {
    call.activeNext = this.#active;
    if (this.#active !== undefined) this.#active.activePrev = call;
    this.#active = call;
    this.#activeCount++;
  }

  #unlink(call: CallContext): void {
    const { activePrev: prev, activeNext: next } = call;
    if (prev === undefined) this.#active = next;
    else prev.activeNext = next;
    if (next !== undefined) next.activePrev = prev;
    call.activePrev = call.activeNext = undefined;
    if (--this.#activeCount === 0 && this.#idle !== undefined) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }

  #mayRetry(call: CallContext, attempt: Attempt): boolean {
    return call.attempts < this.#retry.attempts
      && call.stopped === undefined
      && this.#closing === undefined
      && call.replayable
      && (call.idempotent || isSafeToRetryAnyMethod(attempt.outcome as Outcome));
  }

  /** Picks an endpoint and starts one attempt; rejects only when no endpoint can be had. */
  #attempt(call: CallContext): Promise<Attempt> {
    const endpoint = this.#endpoints.picker?.pick(call);
    if (endpoint !== undefined) return this.#start(call, endpoint);
    return this.#waitForEndpoint(call).then((found) => this.#start(call, found));
  }

  /** Starts one attempt on `endpoint`; the promise never rejects: the attempt carries its result. */
  #start(call: CallContext, endpoint: Endpoint): Promise<Attempt> {
    return new Promise<Attempt>((resolve) => this.#launch(call, endpoint, resolve));
  }

  /**
   * Starts one attempt on `endpoint`; `settle` runs once when it ends (the
   * attempt carries its result). With `hedgeDelay` (the fast path's first
   * attempt of a hedged call) the attempt's timer entry rings first at the
   * hedge delay, then again at its timeout: one entry, no alarm object.
   */
  #launch(call: CallContext, endpoint: Endpoint, settle: (attempt: Attempt) => void, hedgeDelay?: number): void {
    // Clock reads cost ~60-90 ns: the fast path's first attempt starts when the call was admitted.
    const now = settle === this.#onFirstSettled ? call.admittedAt : this.#clock.now();
    const attempt = new Attempt(call, ++call.attempts, endpoint, now, this.#owner);
    call.current = attempt;
    call.hedges?.push(attempt);
    const remaining = call.deadline - now;
    let delay = this.#timeouts.perTry;
    if (remaining <= delay) {
      delay = remaining;
      attempt.timerIsDeadline = true;
    }
    if (hedgeDelay !== undefined && hedgeDelay < delay) {
      // A hedge delay at or past the timeout could never fire: the attempt would have timed out first.
      attempt.hedgeDue = true;
      attempt.timeoutAt = now + delay;
      this.#timers.schedule(attempt, hedgeDelay, now);
    } else if (delay !== Infinity) {
      this.#timers.schedule(attempt, delay, now);
    }
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
      if (attempt.outcome === undefined) this.#finish(attempt, attempt.call.classifier.response(response), response, undefined);
      else attempt.call.transport.discard(response); // settled already (timed out, aborted): nobody will read it
    },
    error: (attempt, error) => {
      if (attempt.outcome === undefined) this.#finish(attempt, attempt.call.classifier.error(error), undefined, error);
    },
    timeout: (attempt) => (attempt.bodyOpen ? this.#bodies.expire(attempt) : this.#timeout(attempt)),
    bodyEnd: (attempt) => this.#bodies.end(attempt),
    bodyFailed: (attempt, error) => this.#bodies.failed(attempt, error),
  };

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
      this.#hedgeDue(attempt, now);
      return;
    }
    const error = timeoutError(attempt, this.#timeouts.perTry);
    this.#finish(attempt, attempt.timerIsDeadline ? (error.blame === 'caller' ? Outcomes.deadline : Outcomes.totalTimeout) : Outcomes.timeout, undefined, error);
    attempt.abort(error);
  }

  /**
   * A hedged first attempt (The Tail at Scale; Finagle's backup requests):
   * if the attempt has not answered after the hedge delay, another goes to a
   * different endpoint, within the hedge budget and the retry budget. The
   * first usable answer wins; the others are cancelled and their responses
   * released. When every attempt fails retryably, the last failure goes on to
   * the retry loop.
   */
  #hedged(call: CallContext, settings: HedgeSettings, adopted?: Attempt): Promise<Attempt> {
    const delay = settings.delayMs ?? this.#latency?.value;
    if (delay === undefined) return this.#attempt(call); // no latency estimate yet
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
          this.#cancel(other, hedgeLost(this.#service));
          if (other.response !== undefined) call.transport.discard(other.response);
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
      const launch = (first: boolean, pending = this.#attempt(call)): void => {
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
        call.attributes['hedges'] = ++hedges;
        launch(false);
        if (hedges < settings.max) this.#timers.schedule(alarm, delay, now);
      };
      const alarm = new Alarm(() => {
        if (done || call.stopped !== undefined || this.#closing !== undefined) return;
        const now = this.#clock.now();
        if (this.#mayHedge(now)) hedge(now);
      });
      if (adopted === undefined) {
        launch(true);
        if (!done) this.#timers.schedule(alarm, delay);
      } else {
        // The first attempt has run its delay already and the budgets allowed this hedge: the race starts with it.
        launch(true, new Promise<Attempt>((settle) => {
          adopted.settle = settle;
        }));
        hedge(this.#clock.now());
      }
    });
  }

  /** Hedges spend from their own budget and from the retry budget: together they never multiply load. */
  #mayHedge(now: number): boolean {
    return (this.#hedgeBudget as RetryBudget).tryRetry(now) && (this.#budget === undefined || this.#budget.tryRetry(now));
  }

  /**
   * The fast path's hedge delay ran out while its first attempt is still in
   * flight: if a hedge may go out, the call becomes the race of
   * {@link #hedged}, which adopts the running attempt; otherwise the first
   * attempt continues alone, as in the race.
   */
  #hedgeDue(first: Attempt, now: number): void {
    const call = first.call;
    if (call.current !== first || call.stopped !== undefined || this.#closing !== undefined || !this.#mayHedge(now)) return;
    this.#hedged(call, this.#hedge as HedgeSettings, first).then(this.#onFirstSettled, (error: unknown) => this.#end(call, error, undefined, true));
  }

  /** Slow path: no picker yet, or it returned nothing. Waits for discovery's first set within the deadline. */
  async #waitForEndpoint(call: CallContext): Promise<Endpoint> {
    const giveUpAt = Math.min(call.deadline, this.#clock.now() + FIRST_SET_WAIT_MS);
    for (;;) {
      if (call.stopped !== undefined) throw call.stopped;
      if (this.#closing !== undefined) throw this.#closing;
      const endpoint = this.#endpoints.picker?.pick(call);
      if (endpoint !== undefined) return endpoint;
      const remaining = giveUpAt - this.#clock.now();
      if (this.#endpoints.resolved || remaining <= 0) {
        // Why there are none is discovery's last error, if it has one: the caller gets it as the cause.
        const view = this.#endpoints.snapshot();
        const cause = view.lastError;
        if (call.deadline <= this.#clock.now()) throw deadlineError(this.#service, call, cause, undefined, view.stale);
        const why = cause === undefined ? '' : ` (discovery: ${cause.message})`;
        throw new MeshkitError('ERR_NO_ENDPOINTS', `${this.#service}: no endpoints available${why}`, {
          service: this.#service, source: view.source, stale: view.stale, endpoints: view.endpoints.length,
        }, cause === undefined ? undefined : { cause });
      }
      const pause = new Pause(this.#clock, call);
      const forget = this.#endpoints.waitForUpdate(pause);
      await pause.wait(remaining);
      forget();
    }
  }

  /** The retry loop (p-retry), entered only after a first retryable failure. */
  async #retryLoop(call: CallContext, first: Attempt): Promise<Attempt> {
    let last = first;
    try {
      return await pRetry(
        async () => {
          const stop = await this.#backOff(call);
          if (stop !== undefined) throw new StopRetrying(stop);
          // Committed to a new attempt: release the failed response and move on from its endpoint.
          if (last.response !== undefined) call.transport.discard(last.response);
          (call.tried ??= []).push(last.endpoint);
          const attempt = await this.#attempt(call);
          last = attempt;
          if ((attempt.outcome as Outcome).retryable && this.#mayRetry(call, attempt)) throw new RetryableFailure(attempt);
          return attempt;
        },
        {
          retries: this.#retry.attempts - 2,
          minTimeout: 0,
          factor: 1,
          randomize: false,
          shouldRetry: ({ error }) => error instanceof RetryableFailure,
        },
      );
    } catch (error) {
      // The deadline left no room for another attempt after a failure without a response: that is the caller's answer.
      if (error instanceof StopRetrying && error.reason === 'deadline' && last.error !== undefined && call.stopped === undefined) {
        throw deadlineError(this.#service, call, last.error, last.outcome);
      }
      if (error instanceof RetryableFailure || error instanceof StopRetrying) return last;
      throw error;
    }
  }

  /** Sleeps the jittered backoff; says why no further attempt may start (deadline, budget, abort, close), or undefined to go on. */
  async #backOff(call: CallContext): Promise<StopReason | undefined> {
    let delay = backoffDelay(this.#retry, call.attempts, this.#clock.random());
    // A Retry-After the server sent sets the pause; one longer than we are willing to wait ends the retries with that answer.
    const asked = call.current === undefined ? undefined : requestedPause(call.current, this.#endpoints.endpoints.length <= 1);
    if (asked !== undefined) {
      if (asked > this.#retry.maxRetryAfterMs) return 'retry-after';
      delay = Math.max(delay, asked);
    }
    const now = this.#clock.now();
    if (now + delay >= call.deadline) return asked !== undefined && asked > 0 ? 'retry-after' : 'deadline';
    // The budget is spent only for a retry that will happen; a spent budget ends the call with its last result.
    if (this.#budget !== undefined && !this.#budget.tryRetry(now)) {
      call.attributes['retryBudgetExhausted'] = true;
      return 'budget';
    }
    if (delay > 0) await new Pause(this.#clock, call).wait(delay);
    if (call.stopped !== undefined || this.#closing !== undefined) return 'stopped';
    return this.#clock.now() < call.deadline ? undefined : 'deadline';
  }

  /** Retries the budget allows now; undefined when retries are not budgeted. */
  retryBudgetRemaining(): number | undefined {
    return this.#budget?.remaining(this.#clock.now());
  }

  /** Hedges the hedge budget allows now; undefined when hedging is off. */
  hedgeBudgetRemaining(): number | undefined {
    return this.#hedgeBudget?.remaining(this.#clock.now());
  }
}

function hedgeLost(service: string): MeshkitError {
  return new MeshkitError('ERR_ABORTED', `${service}: another attempt of this call answered first`, { service, reason: 'hedge-lost' }, { blame: 'local' });
}

/**
 * The error a call ends with when its final attempt failed: meshkit's own
 * errors as they are; a transport's or governed function's error wrapped
 * with the call's context (`ERR_UPSTREAM`, or `ERR_INVALID_ARGUMENT` when the
 * request was refused locally before it was sent), the original as `cause`.
 */
function callError(attempt: Attempt): unknown {
  const error = attempt.error;
  const outcome = attempt.outcome as Outcome;
  // meshkit's own errors are complete; an error the classifier calls ok is the service's answer (a Thrift exception).
  if (isMeshkitError(error) || outcome.ok) return error;
  const { service } = attempt.call;
  const endpoint = attempt.endpoint.id;
  if (outcome.reason === 'refused') {
    return invalidArgument('request', 'a request the transport can send (it refused it before sending a byte)', describeError(error), { cause: error });
  }
  return new MeshkitError('ERR_UPSTREAM', `${service}: attempt ${attempt.number} to ${endpoint} failed: ${describeError(error)}`, {
    service, endpoint, attempt: attempt.number, reason: outcome.reason,
  }, { cause: error });
}

/** A short description of a thrown value for a message (its code and message). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

function abortedError(service: string, reason: unknown): MeshkitError {
  return new MeshkitError('ERR_ABORTED', `${service}: the call was aborted`, { service }, { cause: reason });
}

/**
 * The call's deadline ran out between attempts or before one could start.
 * It is the caller's doing when the caller set the deadline and no attempt
 * had failed by the upstream's doing; otherwise the upstream's.
 */
function deadlineError(service: string, call: CallContext, cause: unknown, last: Outcome | undefined, stale?: boolean): MeshkitError {
  const upstreamFailed = last !== undefined && !last.ok && last.blame === 'upstream';
  const blame = call.deadlineIsCallers && !upstreamFailed ? 'caller' : 'upstream';
  return new MeshkitError('ERR_DEADLINE_EXCEEDED', `${service}: deadline exceeded after ${call.attempts} attempt(s)`, {
    service, attempts: call.attempts, ...(stale === undefined ? {} : { stale }),
  }, cause === undefined ? { blame } : { cause, blame });
}
