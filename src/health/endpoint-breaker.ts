import { BreakerEngine, type CircuitState } from '../breaker/engine.js';
import type { Clock } from '../core/clock.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Outcome } from '../core/outcome.js';
import type { EndpointCircuitBreakerSettings } from './endpoint-breaker-options.js';

/** One endpoint breaker's counters (off the hot path: computed per call). */
export interface EndpointBreakerStats {
  readonly state: CircuitState;
  /** Attempts counted in the rolling window (ignored and refused outcomes are not). */
  readonly calls: number;
  /** Of those, failed attempts. */
  readonly failures: number;
  /** `failures / calls` over the window (0 without calls). */
  readonly errorRate: number;
  /** Times the breaker opened since the endpoint joined (a failed trial counts again). */
  readonly opened: number;
  /** While open: ms until it turns half-open; otherwise 0. */
  readonly retryAfterMs: number;
}

/** Called on every state change of an endpoint's breaker. */
export type EndpointBreakerListener = (id: string, state: CircuitState, previous: CircuitState) => void;

/**
 * One endpoint's breaker: the shared engine, fed attempt outcomes that have
 * already happened. It refuses nothing itself (the outlier detector takes an
 * open endpoint out of rotation), so the half-open trial is the first outcome
 * recorded after the break; later ones wait for its verdict.
 */
class EndpointBreaker {
  readonly engine: BreakerEngine;
  /** True once the half-open trial's outcome is in: later ones wait for the verdict. */
  #trialTaken = false;

  constructor(id: string, settings: EndpointCircuitBreakerSettings, clock: Clock, onState: EndpointBreakerListener) {
    this.engine = new BreakerEngine(settings, clock, (state, previous) => {
      if (state === 'half-open') this.#trialTaken = false;
      onState(id, state, previous);
    });
  }

  /**
   * Records one attempt's outcome. While open, outcomes are not recorded
   * (attempts sent before it opened, or in panic mode, say nothing new);
   * while half-open, only the first one is (the trial).
   */
  record(ok: boolean): void {
    const state = this.engine.state;
    if (state === 'open') return;
    if (state === 'half-open') {
      if (this.#trialTaken) return;
      this.#trialTaken = true;
    }
    this.engine.record(ok);
  }
}

/**
 * The per-endpoint circuit breakers of one client: a breaker per endpoint
 * (the engine the service-level breaker runs, on the client's clock),
 * created when the endpoint's first attempt ends and dropped when the
 * endpoint leaves the set. Each is fed every attempt's classification
 * (`outcome.ok`; aborted attempts are ignored: a hedge loser or a caller's
 * abort says nothing about the endpoint). All share one bucket-rotation
 * timer; an open breaker holds one reset timer on the clock until it turns
 * half-open.
 *
 * The breakers do not refuse anything themselves: the outlier detector takes
 * an endpoint whose breaker is open out of the balancer's set, and puts it back
 * when the breaker turns half-open; the first attempt outcome after that is
 * the trial, which closes the breaker or opens it again. Attempts that reach
 * an open endpoint (panic mode, or sent before it opened) are not counted.
 * State changes are synchronous: the attempt whose outcome opens a breaker
 * has taken its endpoint out before the next attempt is picked.
 */
export class EndpointBreakers {
  readonly settings: EndpointCircuitBreakerSettings;
  readonly #clock: Clock;
  readonly #onState: EndpointBreakerListener;
  readonly #breakers = new Map<string, EndpointBreaker>();
  #closed = false;

  constructor(settings: EndpointCircuitBreakerSettings, clock: Clock, onState: EndpointBreakerListener) {
    this.settings = settings;
    this.#clock = clock;
    this.#onState = onState;
  }

  /** Breakers alive now (endpoints that have had an attempt since they joined). */
  get size(): number {
    return this.#breakers.size;
  }

  /** Feeds one attempt's classification to its endpoint's breaker, creating the breaker on first use. */
  observe(endpoint: Endpoint, outcome: Outcome): void {
    if (outcome.blame !== 'upstream' || this.#closed) return;
    let breaker = this.#breakers.get(endpoint.id);
    if (breaker === undefined) {
      breaker = new EndpointBreaker(endpoint.id, this.settings, this.#clock, this.#onState);
      this.#breakers.set(endpoint.id, breaker);
    }
    breaker.record(outcome.ok);
  }

  /** Drops the breakers of endpoints that left the set. */
  retain(ids: ReadonlyMap<string, unknown>): void {
    for (const [id, breaker] of this.#breakers) {
      if (ids.has(id)) continue;
      breaker.engine.shutdown();
      this.#breakers.delete(id);
    }
  }

  /** The breaker state of an endpoint; `'closed'` for one not used yet. */
  state(id: string): CircuitState {
    return this.#breakers.get(id)?.engine.state ?? 'closed';
  }

  /** While the endpoint's breaker is open: ms until it turns half-open; otherwise 0. */
  retryAfterMs(id: string): number {
    return this.#breakers.get(id)?.engine.retryAfterMs() ?? 0;
  }

  /** Counters of an endpoint's breaker; undefined for an endpoint not used yet. */
  stats(id: string): EndpointBreakerStats | undefined {
    const breaker = this.#breakers.get(id);
    if (breaker === undefined) return undefined;
    const { engine } = breaker;
    const { calls, failures } = engine.window;
    return Object.freeze({
      state: engine.state,
      calls,
      failures,
      errorRate: calls === 0 ? 0 : failures / calls,
      opened: engine.opened,
      retryAfterMs: engine.retryAfterMs(),
    });
  }

  /** Drops every breaker (their reset timers and rotation shares). Idempotent. */
  close(): void {
    this.#closed = true;
    for (const breaker of this.#breakers.values()) breaker.engine.shutdown();
    this.#breakers.clear();
  }
}
