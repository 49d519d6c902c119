import {
  createNoopMeter, ValueType,
  type Attributes, type BatchObservableCallback, type BatchObservableResult, type Counter, type Histogram, type Meter,
  type Observable, type ObservableGauge, type ObservableUpDownCounter,
} from '@opentelemetry/api';
import type { SettledAttempt } from '../core/call-observer.js';
import type { ClientSnapshot } from '../client/snapshot.js';
import type { AttemptKind, CallState } from './call-state.js';
import { isHedgeLoser } from './tracing.js';
import { ATTR, errorType, semconvMethod, statusOf } from './semconv.js';

/** The bucket boundaries the HTTP semantic conventions advise for `http.client.request.duration`, in seconds. */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);

/** Every instrument name, for docs and tests. */
export const METRIC = Object.freeze({
  requestDuration: 'http.client.request.duration',
  callDuration: 'meshkit.client.call.duration',
  attempts: 'meshkit.client.attempts',
  retries: 'meshkit.client.retries',
  hedges: 'meshkit.client.hedges',
  budgetRejections: 'meshkit.client.retry_budget.rejections',
  budgetRemaining: 'meshkit.client.retry_budget.remaining',
  activeCalls: 'meshkit.client.active_calls',
  endpoints: 'meshkit.client.endpoints',
  ejected: 'meshkit.client.endpoints.ejected',
  discoveryAge: 'meshkit.client.discovery.age',
  discoveryStale: 'meshkit.client.discovery.stale',
  breakerState: 'meshkit.client.breaker.state',
  concurrencyLimit: 'meshkit.client.adaptive_concurrency.limit',
});

const ATTEMPT_KINDS: readonly AttemptKind[] = ['first', 'retry', 'hedge'];

/** Breaker states as gauge values. */
const BREAKER_VALUES: Readonly<Record<string, number>> = Object.freeze({ closed: 0, open: 1, 'half-open': 2, halfOpen: 2 });

/**
 * meshkit's metrics on one meter. Per-attempt and per-call instruments are
 * synchronous (attempt counts are added to theirs at each collection, see
 * {@link CallMetrics.attemptEnded}); state (endpoints, breakers, limits,
 * budgets, staleness) is read from `client.snapshot()` once per collection by
 * one batch callback, so it costs nothing between scrapes. Attributes are bounded: service,
 * method, status, error type, endpoint address (never a call id).
 */
export class CallMetrics {
  readonly #meter: Meter;
  readonly #service: string;
  readonly #serviceAttributes: Attributes;
  readonly #requestDuration: Histogram;
  /** Undefined when the `callDuration` option is off. */
  readonly #callDuration: Histogram | undefined;
  readonly #attempts: Counter;
  readonly #retries: Counter;
  readonly #hedges: Counter;
  readonly #budgetRejections: Counter;
  readonly #observables: Observable[];
  readonly #callback: BatchObservableCallback;
  /** Attempts ended since the last collection, by kind then outcome; see {@link CallMetrics.attemptEnded}. */
  readonly #pendingAttempts: Readonly<Record<AttemptKind, Map<string, number>>> = { first: new Map(), retry: new Map(), hedge: new Map() };
  /** The counter's attribute set per kind and outcome, made once. */
  readonly #attemptAttributes: Readonly<Record<AttemptKind, Map<string, Attributes>>> = { first: new Map(), retry: new Map(), hedge: new Map() };
  #attemptsPending = false;
  /** True when the meter is the API's no-op: then the client drops this object and records nothing. */
  readonly noop: boolean;
  #closed = false;

  /** `recordCallDuration`: whether to make and record `meshkit.client.call.duration` (default true). */
  constructor(meter: Meter, service: string, snapshot: () => ClientSnapshot, recordCallDuration = true) {
    this.#meter = meter;
    this.#service = service;
    this.#serviceAttributes = Object.freeze({ [ATTR.service]: service });
    const advice = { explicitBucketBoundaries: [...DURATION_BUCKETS] };
    this.#requestDuration = meter.createHistogram(METRIC.requestDuration, {
      description: 'Duration of HTTP client requests (one per attempt).', unit: 's', advice,
    });
    this.#callDuration = !recordCallDuration ? undefined : meter.createHistogram(METRIC.callDuration, {
      description: 'Duration of logical calls through a meshkit client, retries and hedges included.', unit: 's', advice,
    });
    this.#attempts = meter.createCounter(METRIC.attempts, { description: 'Attempts sent, by kind and outcome.', unit: '{attempt}', valueType: ValueType.INT });
    this.#retries = meter.createCounter(METRIC.retries, { description: 'Retries sent (attempts after a failure).', unit: '{retry}', valueType: ValueType.INT });
    this.#hedges = meter.createCounter(METRIC.hedges, { description: 'Hedged attempts launched.', unit: '{hedge}', valueType: ValueType.INT });
    this.#budgetRejections = meter.createCounter(METRIC.budgetRejections, {
      description: 'Retries the retry budget refused.', unit: '{retry}', valueType: ValueType.INT,
    });
    // The API's no-op meter hands out shared singleton instruments: comparing with one is a public, exact test.
    this.noop = this.#requestDuration === createNoopMeter().createHistogram(METRIC.requestDuration);

    const active = meter.createObservableUpDownCounter(METRIC.activeCalls, { description: 'Calls in flight.', unit: '{call}', valueType: ValueType.INT });
    const endpoints = meter.createObservableUpDownCounter(METRIC.endpoints, {
      description: 'Endpoints in the discovered set.', unit: '{endpoint}', valueType: ValueType.INT,
    });
    const ejected = meter.createObservableUpDownCounter(METRIC.ejected, {
      description: 'Endpoints out of rotation (outlier detection, health checks).', unit: '{endpoint}', valueType: ValueType.INT,
    });
    const age = meter.createObservableGauge(METRIC.discoveryAge, { description: 'Time since the endpoint set last changed.', unit: 's' });
    const stale = meter.createObservableGauge(METRIC.discoveryStale, {
      description: '1 when discovery failed since the set in use arrived, else 0.', unit: '1', valueType: ValueType.INT,
    });
    const breaker = meter.createObservableGauge(METRIC.breakerState, {
      description: 'Circuit breaker state: 0 closed, 1 open, 2 half-open.', unit: '1', valueType: ValueType.INT,
    });
    const limit = meter.createObservableGauge(METRIC.concurrencyLimit, {
      description: 'The adaptive concurrency limit on calls in flight.', unit: '{call}', valueType: ValueType.INT,
    });
    const budget = meter.createObservableGauge(METRIC.budgetRemaining, {
      description: 'Retries the retry budget allows now.', unit: '{retry}',
    });
    this.#observables = [active, endpoints, ejected, age, stale, breaker, limit, budget];
    this.#callback = (result) => {
      this.#flushAttempts();
      if (this.#closed) return;
      this.#observe(result, snapshot(), { active, endpoints, ejected, age, stale, breaker, limit, budget });
    };
    if (!this.noop) meter.addBatchObservableCallback(this.#callback, this.#observables);
  }

  /** Counts an attempt as it starts (retries and hedges). */
  attemptStarted(kind: AttemptKind): void {
    if (kind === 'retry') this.#retries.add(1, this.#serviceAttributes);
    else if (kind === 'hedge') this.#hedges.add(1, this.#serviceAttributes);
  }

  /**
   * Records an attempt's duration (HTTP only) and counts it by kind and
   * outcome. The count is kept here and added to `meshkit.client.attempts`
   * when a reader collects (the SDK runs observable callbacks before it
   * reads synchronous instruments) or the client closes: the SDK hashes a
   * measurement's attributes on every record, and a handful of additions per
   * collection costs nothing next to one per attempt. The exported sums are
   * the same.
   */
  attemptEnded(state: CallState, attempt: SettledAttempt, kind: AttemptKind): void {
    const outcome = attempt.outcome;
    const reason = isHedgeLoser(outcome, attempt.error) ? 'hedge-lost' : outcome?.reason ?? 'error';
    const counts = this.#pendingAttempts[kind];
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    this.#attemptsPending = true;
    if (state.method === undefined) return;
    const attributes: Attributes = {
      [ATTR.service]: this.#service,
      [ATTR.method]: semconvMethod(state.method),
      [ATTR.serverAddress]: attempt.endpoint.host,
      [ATTR.serverPort]: attempt.endpoint.port,
    };
    const status = statusOf(attempt.response) || (outcome?.status ?? 0);
    if (status > 0) attributes[ATTR.statusCode] = status;
    if (attempt.error !== undefined) attributes[ATTR.errorType] = errorType(attempt.error);
    else if (status >= 400) attributes[ATTR.errorType] = String(status);
    this.#requestDuration.record(Math.max(0, attempt.endedAt - attempt.startedAt) / 1000, attributes);
  }

  /** Records whether the retry budget refused the call a retry, and its duration (unless `callDuration` is off). */
  callEnded(state: CallState, error: unknown, result: unknown, now: number): void {
    const call = state.call;
    if (state.retryBudgetExhausted && call.current?.outcome?.retryable === true) this.#budgetRejections.add(1, this.#serviceAttributes);
    const histogram = this.#callDuration;
    if (histogram === undefined) return;
    const attributes: Attributes = { [ATTR.service]: this.#service };
    let status = 0;
    if (state.method !== undefined) {
      attributes[ATTR.method] = semconvMethod(state.method);
      status = error === undefined ? statusOf(result) : 0;
      if (status > 0) attributes[ATTR.statusCode] = status;
    }
    if (error !== undefined) attributes[ATTR.errorType] = errorType(error);
    else if (status >= 400) attributes[ATTR.errorType] = String(status);
    histogram.record(Math.max(0, now - call.startedAt) / 1000, attributes);
  }

  /** Stops the observable callback (the client closed), after adding the attempts it still holds. */
  close(): void {
    if (this.#closed) return;
    this.#flushAttempts();
    this.#closed = true;
    if (!this.noop) this.#meter.removeBatchObservableCallback(this.#callback, this.#observables);
  }

  /** Adds the attempts counted since the last flush to the counter, one add per kind and outcome seen. */
  #flushAttempts(): void {
    if (!this.#attemptsPending) return;
    this.#attemptsPending = false;
    for (const kind of ATTEMPT_KINDS) {
      for (const [reason, count] of this.#pendingAttempts[kind]) {
        if (count === 0) continue;
        this.#pendingAttempts[kind].set(reason, 0);
        this.#attempts.add(count, this.#attemptAttributesOf(kind, reason));
      }
    }
  }

  #attemptAttributesOf(kind: AttemptKind, reason: string): Attributes {
    const cached = this.#attemptAttributes[kind].get(reason);
    if (cached !== undefined) return cached;
    const attributes = Object.freeze({ [ATTR.service]: this.#service, [ATTR.attemptKind]: kind, [ATTR.outcome]: reason });
    this.#attemptAttributes[kind].set(reason, attributes);
    return attributes;
  }

  #observe(
    result: BatchObservableResult,
    snapshot: ClientSnapshot,
    o: {
      active: ObservableUpDownCounter; endpoints: ObservableUpDownCounter; ejected: ObservableUpDownCounter;
      age: ObservableGauge; stale: ObservableGauge; breaker: ObservableGauge; limit: ObservableGauge; budget: ObservableGauge;
    },
  ): void {
    const base = this.#serviceAttributes;
    result.observe(o.active, snapshot.activeCalls, base);
    result.observe(o.endpoints, snapshot.discovery.endpoints, base);
    let ejected = 0;
    for (const endpoint of snapshot.endpoints) if (endpoint.ejected) ejected++;
    result.observe(o.ejected, ejected, base);
    if (typeof snapshot.discovery.ageMs === 'number') result.observe(o.age, snapshot.discovery.ageMs / 1000, base);
    result.observe(o.stale, snapshot.discovery.stale ? 1 : 0, base);
    if (typeof snapshot.retryBudgetRemaining === 'number') result.observe(o.budget, snapshot.retryBudgetRemaining, base);
    for (const policy of snapshot.policies) {
      const state = policy.state;
      if (state === undefined || state === null || typeof state !== 'object') continue;
      const attributes = { [ATTR.service]: this.#service, [ATTR.policy]: policy.name };
      // Policy state keys are read defensively: a policy may report any JSON.
      const breakerState = state['state'];
      if ((state['kind'] === 'circuit-breaker' || policy.name === 'circuit-breaker') && typeof breakerState === 'string') {
        const value = BREAKER_VALUES[breakerState];
        if (value !== undefined) result.observe(o.breaker, value, attributes);
      }
      const limit = state['limit'];
      if ((state['kind'] === 'adaptive-concurrency' || policy.name === 'adaptive-concurrency') && typeof limit === 'number') {
        result.observe(o.limit, limit, attributes);
      }
    }
  }
}
