import * as diagnosticsChannel from 'node:diagnostics_channel';
import { BreakerEngine } from '../breaker/engine.js';
import { isIgnoredEnd } from '../breaker/ignored.js';
import { wrapGate, type AdmissionGate } from '../core/admission.js';
import type { BreakerStateMessage, CircuitState } from '../core/breaker-state.js';
import type { CallContext } from '../core/call-context.js';
import { wallClockNow } from '../core/clock.js';
import { MeshkitError } from '../core/errors.js';
import type { Invoke, Policy } from '../core/policy.js';
import {
  resolveCircuitBreaker, type CircuitBreakerOptions, type CircuitBreakerSettings,
} from './circuit-breaker-options.js';

export { DEFAULT_CIRCUIT_BREAKER, type CircuitBreakerOptions, type CircuitBreakerSettings } from './circuit-breaker-options.js';
export { breakerRotations, type RotationInfo } from '../breaker/rotation.js';

export type { BreakerStateMessage, CircuitState } from '../core/breaker-state.js';

/** A breaker's counters: `calls`, `successes`, `failures` and `errorRate` cover the rolling window, the rest count since creation. */
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
   * rotation timer (both on its clock). Later calls through it reject with `ERR_CLIENT_CLOSED`;
   * calls in flight settle normally. Idempotent.
   */
  close(): void;
  /** A new, closed breaker with the same settings and an empty window (each built client gets one; see `Policy.clone`). */
  clone(): CircuitBreakerPolicy;
}

/** `meshkit:breaker:state`: every breaker's state changes, as {@link BreakerStateMessage}. */
export const breakerStateChannel = diagnosticsChannel.channel('meshkit:breaker:state');

class CircuitBreakerPolicyImpl implements CircuitBreakerPolicy {
  readonly name: string;
  readonly settings: CircuitBreakerSettings;
  readonly #engine: BreakerEngine;
  #service = '';
  #rejected = 0;
  #ignored = 0;
  /** The half-open trial call in flight, if any: it alone goes through until it settles. */
  #trial: CallContext | undefined = undefined;
  /** Wall-clock ms minus clock ms, taken at the first snapshot: `since` in wall-clock time, stable across reads. */
  #wallOffset: number | undefined = undefined;

  constructor(settings: CircuitBreakerSettings) {
    this.name = settings.name;
    this.settings = settings;
    this.#engine = new BreakerEngine(settings, settings.clock, (state, previous) => this.#publish(state, previous));
  }

  get state(): CircuitState {
    return this.#engine.state;
  }

  wrap<T>(next: Invoke<T>): Invoke<T> {
    return wrapGate(this.#gate, next);
  }

  /** Always a gate (the same one `wrap` uses): an open breaker refuses at once, and nothing else waits. */
  admission(): AdmissionGate {
    return this.#gate;
  }

  /**
   * The breaker as an admission gate: refuse while open; in half-open let one
   * trial through and refuse the rest until it settles; when an admitted call
   * ends, record its verdict in the engine unless the upstream had no part
   * in how it ended. No promise, timer or clock read on the success path.
   */
  readonly #gate: AdmissionGate = {
    admit: (call) => {
      if (this.#service === '') this.#service = call.service;
      if (!this.#engine.active) return this.#refusal(call.service);
      const state = this.#engine.state;
      if (state !== 'closed') {
        if (state === 'open' || this.#trial !== undefined) return this.#refusal(call.service);
        this.#trial = call;
      }
      return undefined;
    },
    release: (call, error) => {
      if (this.#trial === call) this.#trial = undefined;
      const engine = this.#engine;
      if (!engine.active) return;
      if (isIgnoredEnd(error, call)) {
        // Not the upstream's doing: the call is not counted at all (as a success it would dilute real failures).
        // A half-open trial that says nothing leaves the breaker half-open (its slot was freed above), so the next
        // call is the trial: re-opening would let a caller that keeps aborting hold the breaker open for everyone.
        this.#ignored++;
        return;
      }
      // A result whose final outcome failed (an HTTP 5xx) counts as a failure; the caller still receives it.
      engine.record(error === undefined && call.current?.outcome?.ok !== false);
    },
  };

  stats(): CircuitBreakerStats {
    const engine = this.#engine;
    const { calls, successes, failures } = engine.window;
    return {
      state: engine.state,
      active: engine.active,
      calls,
      successes,
      failures,
      errorRate: calls === 0 ? 0 : failures / calls,
      rejected: this.#rejected,
      ignored: this.#ignored,
      opened: engine.opened,
      retryAfterMs: engine.retryAfterMs(),
    };
  }

  snapshot(): CircuitBreakerSnapshot {
    const { errorThreshold, volumeThreshold, windowMs, resetTimeoutMs, clock } = this.settings;
    // The snapshot shows wall-clock time: read the clock's once (off the call path) and keep the offset,
    // so that `since` follows the injected clock and repeated reads agree.
    this.#wallOffset ??= wallClockNow(clock) - clock.now();
    return {
      kind: 'circuit-breaker',
      name: this.name,
      ...this.stats(),
      since: new Date(this.#wallOffset + this.#engine.since).toISOString(),
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
    this.#engine.shutdown();
  }

  #refusal(service: string): MeshkitError {
    if (!this.#engine.active) {
      return new MeshkitError('ERR_CLIENT_CLOSED', `${service}: circuit breaker ${this.name} is shut down`, {
        service, breaker: this.name,
      });
    }
    this.#rejected++;
    const state = this.#engine.state;
    return new MeshkitError('ERR_CIRCUIT_OPEN', `${service}: circuit breaker ${this.name} is ${state}`, {
      service, breaker: this.name, state, retryAfterMs: this.#engine.retryAfterMs(),
    });
  }

  #publish(state: CircuitState, previous: CircuitState): void {
    if (!breakerStateChannel.hasSubscribers) return;
    const message: BreakerStateMessage<CircuitBreakerPolicy> = { service: this.#service, name: this.name, state, previous, breaker: this };
    breakerStateChannel.publish(message);
  }
}

/**
 * A service-level circuit breaker: counts each logical call once (retries
 * included) over a rolling window and, when more than `errorThreshold` of at
 * least `volumeThreshold` calls failed, opens: calls then reject at once with
 * `ERR_CIRCUIT_OPEN` (no attempt is sent) until `resetTimeout` has passed on
 * the breaker's `clock`; then one trial call goes through (half-open), whose
 * success closes the breaker (with a fresh window) and whose failure opens it
 * again. The design is Hystrix's (as opossum also implements it), run by
 * meshkit's own breaker engine on the injected clock; the defaults are
 * Hystrix's and opossum's window (10 s in 10 buckets), Hystrix's volume (20)
 * and Hystrix's and Polly's 5 s break; see {@link CircuitBreakerOptions}.
 * For opossum itself, see `opossumCircuitBreaker`.
 *
 * - A failure is a rejection, or a result whose final outcome is not ok
 *   (`call.current.outcome.ok === false`: the HTTP 5xx that `request()`
 *   resolves with, which the caller still receives). Deadline and timeout
 *   errors are failures.
 * - Ignored (not counted at all, neither as a failure nor as a success):
 *   errors whose blame is not `'upstream'`, such as the caller's abort, the
 *   client's close, and `ERR_LIMIT_EXCEEDED` from an inner admission policy,
 *   and results whose final outcome's blame is not (a 504 that arrived as
 *   the caller's deadline ran out: that deadline spent at the next hop).
 *   They say nothing about the upstream, and counting them would let
 *   impatient callers or local load shedding cut the service off; as
 *   successes they would dilute real failures. A half-open trial that ends
 *   this way leaves the breaker half-open, and the next call is the trial: no
 *   evidence either way, and re-opening would let a caller that keeps aborting
 *   hold the breaker open for everyone.
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
 * rotation timer and, while open, one reset timer, both on its clock. It runs
 * as the client's admission gate (no promise; see core/admission.ts): no
 * timer, no clock read, no AbortController on the success path.
 */
export function circuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreakerPolicy {
  return new CircuitBreakerPolicyImpl(resolveCircuitBreaker(options));
}
