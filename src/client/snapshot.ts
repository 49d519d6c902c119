import type { EndpointLoad } from '../balancing/balancer.js';
import type { EjectionReason } from '../health/outlier-detector.js';
import type { CircuitState } from '../policies/circuit-breaker.js';
import type { EndpointsSnapshot } from '../attempts/endpoint-state.js';

/** One endpoint in a {@link ClientSnapshot}: where it is, what it carries, whether it is in rotation. */
export interface EndpointStatus {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly zone: string | undefined;
  /** Weight from discovery (slow start may lower what the balancer uses). */
  readonly weight: number;
  /** True when the balancer may pick it now (not ejected; every endpoint in panic mode). */
  readonly available: boolean;
  /** Attempts in flight from this client, where the balancer tracks it. */
  readonly inFlight: number | undefined;
  /** The balancer's latency estimate in ms (peak EWMA), where it keeps one. */
  readonly latencyMs: number | undefined;
  /** The number the balancer compares (lower is preferred), where it has one. */
  readonly load: number | undefined;
  readonly ejected: boolean;
  readonly ejectionReason: EjectionReason | undefined;
  /** Milliseconds until an ejected endpoint may return. */
  readonly ejectedForMs: number | undefined;
  /** Ejections so far (decayed while healthy); 0 without outlier detection. */
  readonly ejections: number;
  /** Slow-start weight factor (0-1) while the endpoint ramps up after joining or returning; undefined otherwise. */
  readonly slowStartFactor: number | undefined;
  /** The endpoint's own circuit breaker state (`.endpointCircuitBreakers()`); undefined when those are off. */
  readonly circuit: CircuitState | undefined;
}

/** A plain-JSON picture of one client, for status pages, logs and tests. */
export interface ClientSnapshot {
  readonly service: string;
  /** Wall-clock time of the snapshot (ISO 8601). */
  readonly takenAt: string;
  readonly activeCalls: number;
  readonly closed: boolean;
  readonly discovery: {
    readonly source: string;
    readonly endpoints: number;
    /** Milliseconds since the set last changed; undefined before the first set. */
    readonly ageMs: number | undefined;
    /** True when discovery failed since the set in use arrived. */
    readonly stale: boolean;
    readonly lastError: string | undefined;
  };
  readonly endpoints: readonly EndpointStatus[];
  /** Retries the retry budget allows now; undefined when retries are not budgeted. */
  readonly retryBudgetRemaining: number | undefined;
  /** Hedges the hedge budget allows now; undefined when hedging is off. */
  readonly hedgeBudgetRemaining: number | undefined;
  /** Each policy's state, outermost first (policies without state report only their name). */
  readonly policies: readonly { readonly name: string; readonly state: Readonly<Record<string, unknown>> | undefined }[];
}

/** Joins discovery, health and balancer views into one row per endpoint. */
export function endpointStatuses(view: EndpointsSnapshot): EndpointStatus[] {
  const health = new Map(view.health.map((h) => [h.id, h]));
  const loads = new Map<string, EndpointLoad>(view.load.map((l) => [l.id, l]));
  const available = new Set(view.available.map((e) => e.id));
  return view.endpoints.map((endpoint) => {
    const h = health.get(endpoint.id);
    const load = loads.get(endpoint.id);
    return {
      id: endpoint.id,
      host: endpoint.host,
      port: endpoint.port,
      zone: endpoint.zone,
      weight: endpoint.weight,
      available: available.has(endpoint.id),
      inFlight: load?.inFlight,
      latencyMs: load?.latencyMs,
      load: load?.load,
      ejected: h?.ejected ?? false,
      ejectionReason: h?.reason,
      ejectedForMs: h?.ejectedForMs,
      ejections: h?.ejections ?? 0,
      circuit: h?.circuit,
      slowStartFactor: h?.slowStartFactor,
    };
  });
}
