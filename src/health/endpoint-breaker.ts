import CircuitBreaker from 'opossum';
import type { Clock } from '../core/clock.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Outcome } from '../core/outcome.js';
import { countWithoutLatencies, type CircuitState } from '../policies/circuit-breaker.js';
import { clearWindow, opossumOptions } from '../policies/circuit-breaker-opossum.js';
import { acquireRotation, releaseRotation, type SharedRotation } from '../policies/circuit-breaker-rotation.js';
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

/** opossum's action, never run: outcomes are recorded, not fired (see {@link EndpointBreaker.record}). */
const never = (): Promise<void> => Promise.resolve();

/** The counters of one opossum bucket that the endpoint breakers write. */
interface Bucket {
  fires: number;
  successes: number;
  failures: number;
}

/**
 * opossum's rolling window (an array of buckets, the current one first), or
 * undefined if its internals changed; then the events are emitted instead
 * (correct, slower). The same guarded access as `countWithoutLatencies`.
 */
function windowOf(status: object): Bucket[] | undefined {
  const key = Object.getOwnPropertySymbols(status).find((symbol) => symbol.description === 'window');
  const window: unknown = key === undefined ? undefined : (status as Record<symbol, unknown>)[key];
  if (!Array.isArray(window) || window.length === 0) return undefined;
  const first = window[0] as Partial<Bucket>;
  return typeof first.fires === 'number' && typeof first.successes === 'number' && typeof first.failures === 'number'
    ? (window as Bucket[])
    : undefined;
}

class EndpointBreaker {
  readonly opossum: CircuitBreaker<[], void>;
  readonly rotation: SharedRotation;
  readonly #volumeThreshold: number;
  readonly #errorPercent: number;
  state: CircuitState = 'closed';
  /** True once the half-open trial's outcome is in: later ones wait for the verdict. */
  #trialTaken = false;
  /** opossum's window, counted into directly (about 10x cheaper than its events); undefined: emit the events. */
  readonly #window: Bucket[] | undefined;
  /** `Date.now()` when it last opened: opossum's reset timer runs in real time. */
  openedAt = 0;
  opened = 0;

  constructor(id: string, settings: EndpointCircuitBreakerSettings, clock: Clock, onState: EndpointBreakerListener) {
    this.rotation = acquireRotation(clock, settings.windowMs / settings.buckets);
    this.#volumeThreshold = settings.volumeThreshold;
    this.#errorPercent = settings.errorThreshold * 100;
    this.opossum = new CircuitBreaker<[], void>(never, opossumOptions(`endpoint:${id}`, settings, this.rotation));
    this.#window = countWithoutLatencies(this.opossum.status) ? windowOf(this.opossum.status) : undefined;
    const move = (state: CircuitState): void => {
      const previous = this.state;
      if (previous === state) return;
      this.state = state;
      onState(id, state, previous);
    };
    this.opossum.on('open', () => {
      this.opened++;
      this.openedAt = Date.now();
      move('open');
    });
    this.opossum.on('halfOpen', () => {
      this.#trialTaken = false;
      move('half-open');
    });
    this.opossum.on('close', () => {
      // Start closed with an empty window (as the service-level breaker and Polly do): old failures must not re-open it at once.
      clearWindow(this.opossum as unknown as CircuitBreaker);
      move('closed');
    });
  }

  /**
   * Records one attempt's outcome. The attempt already happened, so this does
   * not go through opossum's `fire()` (a promise chain, timestamps and an
   * action call: microseconds per attempt for nothing). It counts what
   * opossum's `fire` and `success`/`failure` events count into opossum's
   * window (emitting those events when the window cannot be reached), closes
   * the breaker on a successful half-open trial as opossum does, and applies
   * opossum's opening rule (`fail()` in lib/circuit.js): while
   * half-open, a failure re-opens; otherwise it opens once the window holds
   * at least `volumeThreshold` attempts and more than `errorThreshold` of them
   * failed. While open, outcomes are not recorded (opossum would refuse them);
   * while half-open, only the first one is (the trial).
   */
  record(ok: boolean): void {
    const opossum = this.opossum;
    if (opossum.opened || opossum.isShutdown) return;
    const halfOpen = opossum.halfOpen;
    if (halfOpen) {
      if (this.#trialTaken) return;
      this.#trialTaken = true;
    }
    const bucket = this.#window?.[0];
    if (bucket === undefined) {
      opossum.emit('fire');
      opossum.emit(ok ? 'success' : 'failure'); // opossum's own listener closes a half-open breaker on success
      if (ok) return;
    } else {
      bucket.fires++;
      if (ok) {
        bucket.successes++;
        if (halfOpen) opossum.close();
        return;
      }
      bucket.failures++;
    }
    if (halfOpen) {
      opossum.open();
      return;
    }
    let fires = 0;
    let failures = 0;
    if (this.#window === undefined) ({ fires, failures } = opossum.stats);
    else for (const counts of this.#window) { fires += counts.fires; failures += counts.failures; }
    if (fires >= this.#volumeThreshold && (failures / fires) * 100 > this.#errorPercent) opossum.open();
  }

  retryAfterMs(resetTimeoutMs: number): number {
    return this.state === 'open' ? Math.max(0, this.openedAt + resetTimeoutMs - Date.now()) : 0;
  }

  /** Releases the reset timer and the share of the rotation; no state event. */
  drop(): void {
    this.opossum.shutdown();
    releaseRotation(this.rotation);
  }
}

/**
 * The per-endpoint circuit breakers of one client: an opossum breaker per
 * endpoint, created when the endpoint's first attempt ends and dropped when
 * the endpoint leaves the set. Each is fed every attempt's classification
 * (`outcome.ok`; aborted attempts are ignored: a hedge loser or a caller's
 * abort says nothing about the endpoint). All share one bucket-rotation
 * timer ({@link acquireRotation}); an open breaker holds opossum's reset
 * timer (unref'd) until it turns half-open.
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
      breaker.drop();
      this.#breakers.delete(id);
    }
  }

  /** The breaker state of an endpoint; `'closed'` for one not used yet. */
  state(id: string): CircuitState {
    return this.#breakers.get(id)?.state ?? 'closed';
  }

  /** While the endpoint's breaker is open: ms until it turns half-open; otherwise 0. */
  retryAfterMs(id: string): number {
    return this.#breakers.get(id)?.retryAfterMs(this.settings.resetTimeoutMs) ?? 0;
  }

  /** Counters of an endpoint's breaker; undefined for an endpoint not used yet. */
  stats(id: string): EndpointBreakerStats | undefined {
    const breaker = this.#breakers.get(id);
    if (breaker === undefined) return undefined;
    const window = breaker.opossum.stats;
    return Object.freeze({
      state: breaker.state,
      calls: window.fires,
      failures: window.failures,
      errorRate: window.fires === 0 ? 0 : window.failures / window.fires,
      opened: breaker.opened,
      retryAfterMs: breaker.retryAfterMs(this.settings.resetTimeoutMs),
    });
  }

  /** Drops every breaker (their reset timers and rotation shares). Idempotent. */
  close(): void {
    this.#closed = true;
    for (const breaker of this.#breakers.values()) breaker.drop();
    this.#breakers.clear();
  }
}
