import type { CircuitState } from '../core/breaker-state.js';
import { EndpointStates } from '../balancing/endpoint-states.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { channels, type EjectionMessage } from '../core/diagnostics.js';
import type { EjectionReason } from '../core/ejection.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Outcome } from '../core/outcome.js';
import { EndpointBreakers } from './endpoint-breaker.js';
import type { EndpointCircuitBreakerSettings } from './endpoint-breaker-options.js';
import type { OutlierSettings } from './outlier-options.js';

/** Health of one endpoint as the endpoint health filter sees it (for `client.endpoints()`). */
export interface EndpointHealth {
  readonly id: string;
  readonly ejected: boolean;
  readonly reason: EjectionReason | undefined;
  /** Milliseconds until an ejected endpoint may return (it returns at the next review after that). */
  readonly ejectedForMs: number | undefined;
  /** Ejections so far, decayed by one per healthy interval; multiplies the next ejection time. */
  readonly ejections: number;
  /** Gateway failures in a row (the run `consecutiveGatewayFailures` counts). */
  readonly consecutiveGatewayFailures: number;
  /** 5xx responses and gateway failures in a row (the run `consecutive5xx` counts; kept while that rule is off too). */
  readonly consecutive5xx: number;
  /** The slow-start weight factor (0-1) while ramping up; undefined otherwise. */
  readonly slowStartFactor: number | undefined;
  /** The endpoint's circuit breaker state (`'closed'` before its first attempt); undefined when endpoint breakers are off. */
  readonly circuit: CircuitState | undefined;
}

/** Per-endpoint counters; one record per endpoint, no timer per endpoint. */
interface HostRecord {
  endpoint: Endpoint;
  /** Gateway failures in a row. */
  gatewayRun: number;
  /** 5xx responses and gateway failures in a row. */
  serverErrorRun: number;
  requests: number;
  successes: number;
  ejections: number;
  ejectedUntil: number | undefined;
  reason: EjectionReason | undefined;
  /** When slow start began for it (added after the first set, or returned from ejection); undefined when not ramping. */
  rampFrom: number | undefined;
  /** False while active health checks say the endpoint is down. */
  activeHealthy: boolean;
  /** True while the endpoint's circuit breaker is open. */
  circuitOpen: boolean;
}

/** Not ejected, not marked down by active health checks, and its breaker not open. */
function inRotation(r: HostRecord): boolean {
  return r.ejectedUntil === undefined && r.activeHealthy && !r.circuitOpen;
}

/** 502/503/504, and failures with no response at all: the endpoint (or the path to it) is broken. */
function isGatewayFailure(outcome: Outcome): boolean {
  const r = outcome.reason;
  return r === 'connect' || r === 'reset' || r === 'timeout' || (r === 'status' && outcome.status >= 502 && outcome.status <= 504);
}

/** Any 5xx response, or a gateway failure (what Envoy's `consecutive_5xx` counts: the router would answer 5xx for it). */
function isServerError(outcome: Outcome): boolean {
  return (outcome.reason === 'status' && outcome.status >= 500 && outcome.status <= 599) || isGatewayFailure(outcome);
}

/**
 * The endpoint health filter: the one place that decides which of
 * discovery's endpoints are in rotation. It joins three sources of evidence
 * (passive outlier detection, per-endpoint circuit breakers, and the verdicts
 * of active health checks) with the panic threshold and slow start, and hands
 * the balancer the result.
 *
 * Outlier detection (Envoy's outlier detection, gRPC A50): consecutive
 * gateway failures, consecutive 5xx (off by default) and success-rate
 * outliers eject an endpoint for
 * base time x ejections (capped); at most `maxEjectionPercent` are ejected
 * at once (always at least one may be); below the panic threshold every
 * endpoint is used; returning and new endpoints ramp up with slow start.
 *
 * The balancer never sees ejected endpoints: the filter hands it the set
 * to balance over, rebuilt only when health changes. All endpoints share one
 * timer, armed only while there is something to review.
 *
 * With per-endpoint circuit breakers ({@link EndpointBreakers}), an endpoint
 * whose breaker is open is out of rotation (reason `'circuit-open'`) until the
 * breaker turns half-open. Like active health checks, this is outside
 * `maxEjectionPercent` (an open breaker always takes its endpoint out, and
 * does not use up the cap of the passive rules); the panic threshold still
 * applies.
 */
export class EndpointHealthFilter {
  readonly #settings: OutlierSettings;
  readonly #clock: Clock;
  readonly #onChange: () => void;
  /** Records by id, kept across sets for endpoints that stay. */
  readonly #records = new EndpointStates<HostRecord>((endpoint) => this.#newRecord(endpoint), () => {
    this.#dropped = true;
  }, (record, endpoint) => {
    record.endpoint = endpoint; // the newest object of its id (the last one, when a set names an id twice)
  });
  /** The records by id (the live view of {@link #records}): one map read per attempt. */
  readonly #byId = this.#records.byId;
  /** Every record once, in the order of the set (first occurrence of each id). */
  #order: readonly HostRecord[] = [];
  /** Set by the records' drop hook while a set is applied. */
  #dropped = false;
  /** The time of the set being applied, for the records it creates. */
  #setAt = 0;
  #available: readonly Endpoint[] = [];
  /** Reused by {@link #recompute}: a new array is made only when the set for the balancer changed. */
  readonly #candidates: Endpoint[] = [];
  #seenFirstSet = false;
  #nextReviewAt = Infinity;
  #timer: TimerHandle | undefined = undefined;
  #timerAt = Infinity;
  #closed = false;
  readonly #service: string;
  readonly #breakers: EndpointBreakers | undefined;

  /** `endpointBreakers`: settings of per-endpoint circuit breakers; undefined (the default) for none. */
  constructor(settings: OutlierSettings, clock: Clock, onChange: () => void, service = '', endpointBreakers?: EndpointCircuitBreakerSettings) {
    this.#settings = settings;
    this.#clock = clock;
    this.#onChange = onChange;
    this.#service = service;
    this.#breakers = endpointBreakers === undefined
      ? undefined
      : new EndpointBreakers(endpointBreakers, clock, (id, state) => this.#onCircuit(id, state));
  }

  /** The per-endpoint circuit breakers, when on (for status and tests). */
  get endpointBreakers(): EndpointBreakers | undefined {
    return this.#breakers;
  }

  /** Tells telemetry that an endpoint left rotation or came back (costs a property read when nobody listens). */
  #publish(record: HostRecord, ejected: boolean, reason: EjectionReason | undefined, now: number, forMs?: number): void {
    const listener = this.onEjection;
    if (!channels.ejection.hasSubscribers && listener === undefined) return;
    const message: EjectionMessage = {
      service: this.#service,
      endpoint: record.endpoint,
      ejected,
      reason,
      ejectedForMs: forMs ?? (ejected && record.ejectedUntil !== undefined ? record.ejectedUntil - now : undefined),
      ejections: record.ejections,
    };
    if (channels.ejection.hasSubscribers) channels.ejection.publish(message);
    listener?.(message);
  }

  /** The owning client's `onEjection` hooks; undefined while nobody listens. */
  onEjection: ((message: EjectionMessage) => void) | undefined = undefined;

  /** The endpoints the balancer should use now. */
  get available(): readonly Endpoint[] {
    return this.#available;
  }

  /** Discovery delivered a new set: keep what is known about endpoints that stay. */
  setEndpoints(endpoints: readonly Endpoint[]): void {
    const now = this.#clock.now();
    if (!this.#seenFirstSet) this.#nextReviewAt = now + this.#settings.intervalMs;
    this.#setAt = now;
    this.#dropped = false;
    // Cheap when the set is the last one with a few endpoints in or out (see EndpointStates).
    const aligned = this.#records.sync(endpoints);
    this.#order = this.#records.size === aligned.length ? aligned : [...new Set(aligned)]; // an id named twice: its first place
    this.#seenFirstSet = true;
    if (this.#dropped) this.#breakers?.retain(this.#byId);
    this.#recompute(now);
    this.#arm();
  }

  #newRecord(endpoint: Endpoint): HostRecord {
    return {
      endpoint, gatewayRun: 0, serverErrorRun: 0, requests: 0, successes: 0, ejections: 0, ejectedUntil: undefined, reason: undefined, activeHealthy: true, circuitOpen: false,
      // The first set is the fleet as it is; only endpoints that join later ramp up.
      rampFrom: this.#seenFirstSet && this.#settings.slowStart !== undefined ? this.#setAt : undefined,
    };
  }

  /** Feeds one attempt's classification. Called once per attempt. */
  observe(endpoint: Endpoint, outcome: Outcome): void {
    // An attempt the caller (or close()) aborted says nothing about the endpoint.
    if (outcome.blame !== 'upstream') return; // the caller's or meshkit's doing says nothing about the endpoint
    const record = this.#byId.get(endpoint.id);
    if (record === undefined) return;
    // Before the ejection check: an attempt reaching an ejected endpoint (panic mode) is still evidence for its breaker.
    this.#breakers?.observe(endpoint, outcome);
    if (record.ejectedUntil !== undefined) return;
    record.requests++;
    if (outcome.ok) record.successes++;
    if (!isServerError(outcome)) {
      record.gatewayRun = 0;
      record.serverErrorRun = 0;
      return;
    }
    record.serverErrorRun++;
    record.gatewayRun = isGatewayFailure(outcome) ? record.gatewayRun + 1 : 0;
    // The gateway rule first (as Envoy): a 503 completing both runs is reported as a gateway failure.
    const settings = this.#settings;
    const reason: EjectionReason | undefined =
      settings.consecutiveGatewayFailures > 0 && record.gatewayRun >= settings.consecutiveGatewayFailures ? 'consecutive-gateway-failures'
        : settings.consecutive5xx > 0 && record.serverErrorRun >= settings.consecutive5xx ? 'consecutive-5xx'
          : undefined;
    if (reason !== undefined && this.#eject(record, reason, this.#clock.now())) {
      if (this.#recompute(this.#clock.now())) this.#onChange();
    }
  }

  /**
   * Active health checks' verdict for one endpoint. An endpoint marked down
   * leaves rotation at once, outside the ejection cap (the check is direct
   * evidence), and comes back (with slow start) when marked up. The panic
   * threshold still applies.
   */
  setActiveHealth(endpoint: Endpoint, healthy: boolean): void {
    const record = this.#byId.get(endpoint.id);
    if (record === undefined || record.activeHealthy === healthy) return;
    record.activeHealthy = healthy;
    this.#publish(record, !healthy, 'active-health-check', this.#clock.now());
    if (healthy && this.#settings.slowStart !== undefined && record.ejectedUntil === undefined) record.rampFrom = this.#clock.now();
    if (this.#recompute(this.#clock.now())) this.#onChange();
    this.#arm();
  }

  /**
   * An endpoint's breaker changed state: open takes it out of rotation,
   * half-open puts it back for the trial (ramping up if slow start is on).
   */
  #onCircuit(id: string, state: CircuitState): void {
    const record = this.#byId.get(id);
    if (record === undefined || this.#closed) return;
    const open = state === 'open';
    if (record.circuitOpen === open) return;
    record.circuitOpen = open;
    const now = this.#clock.now();
    this.#publish(record, open, 'circuit-open', now, open ? this.#breakers?.settings.resetTimeoutMs : undefined);
    if (!open && this.#settings.slowStart !== undefined && record.ejectedUntil === undefined && record.activeHealthy) record.rampFrom = now;
    if (this.#recompute(now)) this.#onChange();
    this.#arm();
  }

  /** Health of every endpoint. */
  snapshot(): EndpointHealth[] {
    const now = this.#clock.now();
    const breakers = this.#breakers;
    return this.#order.map((r) => Object.freeze({
      id: r.endpoint.id,
      ejected: r.ejectedUntil !== undefined || !r.activeHealthy || r.circuitOpen,
      reason: r.ejectedUntil !== undefined ? r.reason : !r.activeHealthy ? 'active-health-check' : r.circuitOpen ? 'circuit-open' : undefined,
      ejectedForMs: r.ejectedUntil !== undefined
        ? Math.max(0, r.ejectedUntil - now)
        : r.activeHealthy && r.circuitOpen ? breakers?.retryAfterMs(r.endpoint.id) : undefined,
      ejections: r.ejections,
      consecutiveGatewayFailures: r.gatewayRun,
      consecutive5xx: r.serverErrorRun,
      slowStartFactor: this.#rampFactor(r, now),
      circuit: breakers?.state(r.endpoint.id),
    }));
  }

  /** Stops the review timer and drops the endpoint breakers. */
  close(): void {
    this.#closed = true;
    this.#breakers?.close();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #ejectedCount(): number {
    let ejected = 0;
    for (const r of this.#order) if (r.ejectedUntil !== undefined) ejected++;
    return ejected;
  }

  /** Ejects when the ejection cap allows; returns whether it did. */
  #eject(record: HostRecord, reason: EjectionReason, now: number): boolean {
    const percent = this.#settings.maxEjectionPercent;
    if (percent === 0) return false;
    const allowed = Math.max(1, Math.floor((this.#order.length * percent) / 100));
    if (this.#ejectedCount() >= allowed) return false;
    record.ejections++;
    record.ejectedUntil = now + Math.min(this.#settings.maxEjectionMs, this.#settings.baseEjectionMs * record.ejections);
    record.reason = reason;
    record.gatewayRun = 0;
    record.serverErrorRun = 0;
    record.rampFrom = undefined;
    this.#publish(record, true, reason, now);
    return true;
  }

  /** The one timer: reviews every interval, and recomputes ramping weights in between. */
  #onTimer(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const now = this.#clock.now();
    if (now >= this.#nextReviewAt) {
      this.#review(now);
      this.#nextReviewAt = now + this.#settings.intervalMs;
    }
    if (this.#recompute(now)) this.#onChange();
    this.#arm();
  }

  /** The interval review: return endpoints whose time is up, run the success-rate rule, reset counters. */
  #review(now: number): void {
    for (const r of this.#order) {
      if (r.ejectedUntil !== undefined && r.ejectedUntil <= now) {
        r.ejectedUntil = undefined;
        const reason = r.reason;
        r.reason = undefined;
        this.#publish(r, false, reason, now);
        if (this.#settings.slowStart !== undefined) r.rampFrom = now;
      } else if (r.ejectedUntil === undefined && r.ejections > 0) {
        r.ejections--; // as Envoy: each interval out of ejection shortens the next ejection
      }
    }
    this.#successRateRule(now);
    for (const r of this.#order) {
      r.requests = 0;
      r.successes = 0;
    }
  }

  /** Ejects endpoints whose success rate is below mean - factor * stdev (Envoy's success-rate outlier detection). */
  #successRateRule(now: number): void {
    const rule = this.#settings.successRate;
    if (rule === undefined) return;
    const candidates = this.#order.filter((r) => r.ejectedUntil === undefined && r.requests >= rule.requestVolume);
    if (candidates.length < rule.minimumHosts) return;
    const rates = candidates.map((r) => r.successes / r.requests);
    const mean = rates.reduce((sum, x) => sum + x, 0) / rates.length;
    const stdev = Math.sqrt(rates.reduce((sum, x) => sum + (x - mean) ** 2, 0) / rates.length);
    const floor = mean - rule.stdevFactor * stdev;
    candidates.forEach((r, i) => {
      if ((rates[i] as number) < floor) this.#eject(r, 'success-rate', now);
    });
  }

  #rampFactor(r: HostRecord, now: number): number | undefined {
    const slow = this.#settings.slowStart;
    if (slow === undefined || r.rampFrom === undefined || r.ejectedUntil !== undefined) return undefined;
    const t = now - r.rampFrom;
    if (t >= slow.windowMs) return undefined;
    return Math.max(slow.minWeight, (t / slow.windowMs) ** (1 / slow.aggression));
  }

  /** Recomputes the set for the balancer; returns whether it changed. */
  #recompute(now: number): boolean {
    const records = this.#order;
    let healthy = 0;
    for (const r of records) if (inRotation(r)) healthy++;
    // Panic: with too few healthy endpoints, concentrating all traffic on them would overload them.
    const panic = records.length > 0 && (healthy * 100) / records.length < this.#settings.panicThreshold;
    const next = this.#candidates;
    next.length = 0;
    for (const r of records) {
      if (!panic && !inRotation(r)) continue;
      const factor = this.#rampFactor(r, now);
      if (factor === undefined) {
        r.rampFrom = undefined;
        next.push(r.endpoint);
      } else {
        next.push(Object.freeze({ ...r.endpoint, weight: r.endpoint.weight * factor }));
      }
    }
    const available = this.#available;
    let changed = next.length !== available.length;
    for (let i = 0; !changed && i < next.length; i++) {
      const e = next[i] as Endpoint;
      const a = available[i] as Endpoint;
      changed = e !== a && (e.id !== a.id || e.weight !== a.weight);
    }
    if (changed) this.#available = Object.freeze(next.slice());
    return changed;
  }

  /** Arms the one timer for the next review, or sooner while an endpoint ramps up (re-arming if it is set too late). */
  #arm(): void {
    if (this.#closed || this.#order.length === 0) return;
    const now = this.#clock.now();
    let at = this.#nextReviewAt;
    const slow = this.#settings.slowStart;
    if (slow !== undefined && this.#order.some((r) => r.rampFrom !== undefined)) at = Math.min(at, now + Math.max(10, slow.windowMs / 10));
    if (this.#timer !== undefined) {
      if (this.#timerAt <= at) return;
      this.#clock.clearTimeout(this.#timer);
    }
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => this.#onTimer(), Math.max(0, at - now));
  }
}
