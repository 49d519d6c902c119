import * as diagnosticsChannel from 'node:diagnostics_channel';
import CircuitBreaker from 'opossum';
import { wrapGate, type AdmissionGate } from '../core/admission.js';
import type { BreakerStateMessage, CircuitState } from '../core/breaker-state.js';
import type { CallContext } from '../core/call-context.js';
import { blameOf, isMeshkitError, MeshkitError } from '../core/errors.js';
import type { Invoke, Policy } from '../core/policy.js';
import {
  resolveCircuitBreaker, type CircuitBreakerOptions, type CircuitBreakerSettings,
} from './circuit-breaker-options.js';
import { clearWindow, opossumOptions } from './circuit-breaker-opossum.js';
import { acquireRotation, releaseRotation, type SharedRotation } from './circuit-breaker-rotation.js';

export { DEFAULT_CIRCUIT_BREAKER, type CircuitBreakerOptions, type CircuitBreakerSettings } from './circuit-breaker-options.js';
export { breakerRotations, type RotationInfo } from './circuit-breaker-rotation.js';

export type { BreakerStateMessage, CircuitState } from '../core/breaker-state.js';

/** A breaker's counters: `window` is opossum's rolling window, the rest count since creation. */
export interface CircuitBreakerStats {
  readonly state: CircuitState;
  /** False once `close()` has shut the breaker down. */
  readonly active: boolean;
  /** Calls that ended during the rolling window and were counted (refused and ignored calls are not). */
  readonly calls: number;
  /** Of those, calls that succeeded. */
  readonly successes: number;
  /** Of those, calls counted as failures. */
  readonly failures: number;
  /** `failures / calls` over the window (0 when there are no calls): the breaker opens when this exceeds `errorThreshold`. */
  readonly errorRate: number;
  /** Calls refused with `ERR_CIRCUIT_OPEN` since creation. */
  readonly rejected: number;
  /**
   * Calls not counted at all since creation, because their end was not the
   * upstream's doing: the caller's abort or deadline, a request refused
   * locally, the client closing, `ERR_LIMIT_EXCEEDED` from an inner policy.
   */
  readonly ignored: number;
  /** Times the breaker opened since creation (a failed half-open trial counts again). */
  readonly opened: number;
  /** While open: ms until the half-open trial is allowed; otherwise 0. */
  readonly retryAfterMs: number;
}

/**
 * A breaker's state for `client.snapshot()` and status pages: {@link CircuitBreakerStats}
 * plus when the state began and the thresholds it is judged by. Plain JSON; the keys are
 * stable (telemetry reads them; see docs/status-page.md). A type alias, not an
 * interface, so that it is a `Record<string, unknown>` as `Policy.snapshot` returns.
 */
export type CircuitBreakerSnapshot = Pick<CircuitBreakerStats, keyof CircuitBreakerStats> & {
  readonly kind: 'circuit-breaker';
  /** The breaker's name (`settings.name`). */
  readonly name: string;
  /** Wall-clock time (ISO 8601) the current state began; creation time while it never changed. */
  readonly since: string;
  /** Fraction of failed calls (0-1) over which it opens (`errorThreshold`). */
  readonly errorThreshold: number;
  /** Calls in the window before it may open (`volumeThreshold`). */
  readonly volumeThreshold: number;
  /** Length of the rolling window, ms. */
  readonly windowMs: number;
  /** How long it stays open before a trial call, ms. */
  readonly resetTimeoutMs: number;
};

/** A circuit breaker policy: add it with `.policy(breaker)`; read its state; `close()` it with the client. */
export interface CircuitBreakerPolicy extends Policy {
  /** The current state. */
  readonly state: CircuitState;
  /** The resolved settings. */
  readonly settings: CircuitBreakerSettings;
  /** A snapshot of the counters (computed on each call: not for the hot path). */
  stats(): CircuitBreakerStats;
  /** {@link stats} with the state's start time and thresholds, for `client.snapshot()`. Reads only. */
  snapshot(): CircuitBreakerSnapshot;
  /**
   * Shuts the breaker down: releases its reset timer and its share of the
   * rotation timer. Later calls through it reject with `ERR_CLIENT_CLOSED`;
   * calls in flight settle normally. Idempotent.
   */
  close(): void;
  /** A new, closed breaker with the same settings and an empty window (each built client gets one; see `Policy.clone`). */
  clone(): CircuitBreakerPolicy;
}

/** `meshkit:breaker:state`: every breaker's state changes, as {@link BreakerStateMessage}. */
export const breakerStateChannel = diagnosticsChannel.channel('meshkit:breaker:state');

/**
 * A result that resolved but whose final outcome is a failure (an HTTP 5xx),
 * as opossum's `failure` event reports it. Not an `Error`: no stack is captured.
 */
class FailedResult {
  constructor(readonly value: unknown) {}
}

/** opossum's action, which meshkit never fires (see the gate): the breaker is used for its window, state and timers. */
const neverFired = (): Promise<never> => Promise.reject(new Error('meshkit runs this breaker as an admission gate; fire() is not used'));

/**
 * Errors that say nothing about the upstream's health (see `blameOf`): the
 * caller gave up (`ERR_ABORTED`, or its signal fired), its own deadline ran
 * out first, its request was refused locally (`ERR_INVALID_ARGUMENT`), the
 * client is closing (`ERR_CLIENT_CLOSED`), or an inner admission policy
 * refused the call locally (`ERR_LIMIT_EXCEEDED`: nothing was sent).
 */
function isIgnored(error: unknown, call: CallContext): boolean {
  return call.stopped !== undefined || blameOf(error) !== 'upstream';
}

/**
 * opossum's window pushes every call's latency into an array even with
 * percentiles disabled (hundreds of thousands of numbers per window at high
 * rates, about 0.5 us per call in `bench`). Nothing here reads latencies, so
 * the status counts only. Guarded: if opossum's internals change, the stock
 * `increment` stays (correct, just slower); a test notices.
 * @returns whether the status now counts without latencies
 * @internal Also used by the per-endpoint breakers (src/health/endpoint-breaker.ts).
 */
export function countWithoutLatencies(status: object): boolean {
  const key = Object.getOwnPropertySymbols(status).find((symbol) => symbol.description === 'window');
  const window: unknown = key === undefined ? undefined : (status as unknown as Record<symbol, unknown>)[key];
  if (!Array.isArray(window) || window.length === 0 || typeof (window[0] as { fires?: unknown }).fires !== 'number') return false;
  const buckets = window as Record<string, number>[];
  // opossum rotates by pop() + unshift() on this same array, so buckets[0] is always the current bucket.
  (status as unknown as { increment(property: string): void }).increment = (property: string): void => {
    const bucket = buckets[0] as Record<string, number>;
    // The hot three by name (a keyed access on a computed name is several times slower).
    if (property === 'fires') bucket['fires'] = (bucket['fires'] as number) + 1;
    else if (property === 'successes') bucket['successes'] = (bucket['successes'] as number) + 1;
    else if (property === 'failures') bucket['failures'] = (bucket['failures'] as number) + 1;
    else bucket[property] = (bucket[property] as number) + 1;
  };
  return true;
}

/**
 * @internal For tests: the opossum breaker behind a policy. Typed `unknown` so
 * that meshkit's published types never name opossum's (whose types are a dev
 * dependency only).
 */
export function opossumBreaker(policy: CircuitBreakerPolicy): unknown {
  return policy instanceof CircuitBreakerPolicyImpl ? policy.opossum : undefined;
}

class CircuitBreakerPolicyImpl implements CircuitBreakerPolicy {
  readonly name: string;
  readonly settings: CircuitBreakerSettings;
  readonly #breaker: CircuitBreaker<[CallContext], unknown>;
  readonly #rotation: SharedRotation;
  #state: CircuitState = 'closed';
  #service = '';
  #active = true;
  #openedAt = 0;
  /** Date.now() when the current state began (opossum's reset timer runs on wall-clock time too). */
  #since = Date.now();
  #rejected = 0;
  #ignored = 0;
  #opened = 0;
  /** The status counts without latencies (our `increment`), so the gate counts a fire straight into it. */
  readonly #fast: boolean;

  constructor(settings: CircuitBreakerSettings) {
    this.name = settings.name;
    this.settings = settings;
    this.#rotation = acquireRotation(settings.clock, settings.windowMs / settings.buckets);
    this.#breaker = new CircuitBreaker<[CallContext], unknown>(neverFired, opossumOptions(settings.name, settings, this.#rotation));
    this.#fast = countWithoutLatencies(this.#breaker.status);
    this.#breaker.on('open', () => {
      this.#opened++;
      this.#openedAt = Date.now();
      this.#transition('open');
    });
    this.#breaker.on('halfOpen', () => this.#transition('half-open'));
    this.#breaker.on('close', () => {
      // Start closed with an empty window (as Polly does): failures from before the break must not reopen it at once.
      clearWindow(this.opossum);
      this.#transition('closed');
    });
  }

  get state(): CircuitState {
    return this.#state;
  }

  /** @internal Not public: a fallback or manual open registered on it would bypass meshkit's semantics. */
  get opossum(): CircuitBreaker {
    return this.#breaker as unknown as CircuitBreaker;
  }

  wrap<T>(next: Invoke<T>): Invoke<T> {
    return wrapGate(this.#gate, next);
  }

  /** Always a gate (the same one `wrap` uses): an open breaker refuses at once, and nothing else waits. */
  admission(): AdmissionGate {
    return this.#gate;
  }

  /** The half-open trial call in flight, if any: it alone goes through until it settles. */
  #trial: CallContext | undefined = undefined;

  /**
   * The breaker as an admission gate, never through opossum's `fire()` (about
   * 1.5 us of promises, rest arguments, two clock reads and event emissions
   * per call). With no timeout, capacity, cache, coalescing or fallback
   * (meshkit sets none), `fire()` does only this: refuse while open; in
   * half-open let one trial through; count the fire; run the call; then emit
   * `success` (which closes a half-open breaker), or `failure` and check the
   * threshold. The same events are emitted here, so the window, the half-open
   * close and opossum's listeners see what they would have seen. The fire,
   * and a success while closed (whose only listener counts it), are counted
   * straight into the status when it counts without latencies (see
   * {@link countWithoutLatencies}), else through the events.
   */
  readonly #gate: AdmissionGate = {
    admit: (call) => {
      if (this.#service === '') this.#service = call.service;
      const breaker = this.#breaker;
      if (!this.#active) return this.#refusal(call.service);
      if (!breaker.closed) {
        if (!breaker.pendingClose || this.#trial !== undefined) return this.#refusal(call.service);
        this.#trial = call;
      }
      return undefined;
    },
    release: (call, error) => {
      if (this.#trial === call) this.#trial = undefined;
      const breaker = this.#breaker;
      if (!breaker.enabled) return;
      if (error !== undefined && !(error instanceof FailedResult) && isIgnored(error, call)) {
        // Not the upstream's doing: the call is not counted at all (as a success it would dilute real failures).
        // A half-open trial that says nothing re-opens the breaker: closing it would rest on no evidence.
        this.#ignored++;
        if (breaker.halfOpen) breaker.open();
        return;
      }
      // The fire is counted when the call ends, once it is known to say something about the upstream.
      if (this.#fast) (breaker.status as unknown as { increment(property: string): void }).increment('fires');
      else breaker.emit('fire', [call]);
      // A result whose final outcome failed (an HTTP 5xx) counts as a failure; the caller still receives it.
      if (error !== undefined) this.#judgeFailure(error, call);
      else if (call.current?.outcome?.ok === false) this.#judgeFailure(new FailedResult(call.current.response), call);
      // Closed, opossum's only 'success' listeners count it (the other closes a half-open breaker): count it straight away.
      else if (this.#fast && breaker.closed) (breaker.status as unknown as { increment(property: string): void }).increment('successes');
      else breaker.emit('success', undefined, 0);
    },
  };

  /** What opossum does with a rejected action (no fallback is ever registered): filter, count, maybe open. */
  #judgeFailure(error: unknown, call: CallContext): void {
    const breaker = this.#breaker;
    breaker.emit('failure', error, 0, [call]);
    if (breaker.warmUp) return;
    const halfOpen = breaker.halfOpen;
    const { fires, failures } = breaker.stats;
    if (fires < breaker.volumeThreshold && !halfOpen) return;
    if (halfOpen || (failures / fires) * 100 > this.settings.errorThreshold * 100) breaker.open();
  }

  stats(): CircuitBreakerStats {
    const window = this.#breaker.stats;
    const calls = window.fires;
    return {
      state: this.#state,
      active: this.#active,
      calls,
      successes: window.successes,
      failures: window.failures,
      errorRate: calls === 0 ? 0 : window.failures / calls,
      rejected: this.#rejected,
      ignored: this.#ignored,
      opened: this.#opened,
      retryAfterMs: this.#retryAfterMs(),
    };
  }

  snapshot(): CircuitBreakerSnapshot {
    const { errorThreshold, volumeThreshold, windowMs, resetTimeoutMs } = this.settings;
    return {
      kind: 'circuit-breaker',
      name: this.name,
      ...this.stats(),
      since: new Date(this.#since).toISOString(),
      errorThreshold,
      volumeThreshold,
      windowMs,
      resetTimeoutMs,
    };
  }

  clone(): CircuitBreakerPolicy {
    return new CircuitBreakerPolicyImpl(this.settings);
  }

  close(): void {
    if (!this.#active) return;
    this.#active = false;
    this.#breaker.shutdown();
    releaseRotation(this.#rotation);
  }

  #retryAfterMs(): number {
    return this.#state === 'open' ? Math.max(0, this.#openedAt + this.settings.resetTimeoutMs - Date.now()) : 0;
  }

  #refusal(service: string): MeshkitError {
    if (!this.#active) {
      return new MeshkitError('ERR_CLIENT_CLOSED', `${service}: circuit breaker ${this.name} is shut down`, {
        service, breaker: this.name,
      });
    }
    this.#rejected++;
    return new MeshkitError('ERR_CIRCUIT_OPEN', `${service}: circuit breaker ${this.name} is ${this.#state}`, {
      service, breaker: this.name, state: this.#state, retryAfterMs: this.#retryAfterMs(),
    });
  }

  #transition(state: CircuitState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#since = Date.now();
    if (breakerStateChannel.hasSubscribers) {
      const message: BreakerStateMessage<CircuitBreakerPolicy> = { service: this.#service, name: this.name, state, previous, breaker: this };
      breakerStateChannel.publish(message);
    }
  }
}

/**
 * A service-level circuit breaker on opossum: counts each logical call once
 * (retries included) over a rolling window and, when more than
 * `errorThreshold` of at least `volumeThreshold` calls failed, opens: calls
 * then reject at once with `ERR_CIRCUIT_OPEN` (no attempt is sent) until
 * `resetTimeout` has passed; then one trial call goes through (half-open),
 * whose success closes the breaker (with a fresh window) and whose failure
 * opens it again. The design is Hystrix's as implemented by opossum; the
 * defaults are Hystrix's and opossum's window (10 s in 10 buckets), Hystrix's
 * volume (20) and Hystrix's and Polly's 5 s break; see
 * {@link CircuitBreakerOptions}.
 *
 * - A failure is a rejection, or a result whose final outcome is not ok
 *   (`call.current.outcome.ok === false`: the HTTP 5xx that `request()`
 *   resolves with, which the caller still receives). Deadline and timeout
 *   errors are failures.
 * - Not failures: the caller's abort, the client's close, and
 *   `ERR_LIMIT_EXCEEDED` from an inner admission policy. They say nothing
 *   about the upstream, and counting them would let impatient callers or local
 *   load shedding cut the service off. opossum has no third category, so they
 *   count as successes; a half-open trial that ends this way re-opens the
 *   breaker (no evidence either way; closing would be the riskier guess).
 * - Refused calls are not counted in the window.
 * - State changes are published on `meshkit:breaker:state`
 *   ({@link breakerStateChannel}).
 *
 * Pipeline order (docs/policies.md): after the fallback (so the fallback
 * also covers `ERR_CIRCUIT_OPEN`), the rate limit and the adaptive throttle;
 * before the bulkhead or adaptive concurrency (an open breaker refuses before
 * a call takes a slot, and their `ERR_LIMIT_EXCEEDED` is not counted). It
 * always wraps the retries, so it sees one result per logical call. One
 * instance per client (a builder clones it for every client built after the
 * first: see `Policy.clone`), closed with its client: it holds a share of the
 * rotation timer and, while open, opossum's reset timer. It runs as the client's admission gate (no promise;
 * see core/admission.ts), never through opossum's `fire()` (whose events it
 * still emits; see docs/policies/circuit-breaker.md): no timer, no
 * AbortController, no latency recording on the success path.
 */
export function circuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreakerPolicy {
  return new CircuitBreakerPolicyImpl(resolveCircuitBreaker(options));
}
