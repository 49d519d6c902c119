import type { CircuitState } from './breaker-state.js';
import type { EjectionReason } from './ejection.js';

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

/** The mTLS identity of a client built with `.identity(id)`, in a {@link ClientSnapshot}. */
export interface ClientIdentityStatus {
  /** The identity's source: `consul-connect`, `file`, or a custom source's name. */
  readonly kind: string;
  /** The SPIFFE ID the client presents; undefined until the first load. */
  readonly spiffeId: string | undefined;
  /** The peer service whose SPIFFE ID servers must present. */
  readonly peerService: string;
  /** When the leaf stops being valid (ISO 8601); undefined until the first load. */
  readonly notAfter: string | undefined;
  /** Milliseconds until `notAfter` at the snapshot's time (negative once expired: then no leaf is presented). */
  readonly expiresInMs: number | undefined;
  /** The last refresh failed: the material in use is the last good one. */
  readonly stale: boolean;
  readonly lastError: string | undefined;
  /** Increases on every rotation or renewal; 0 before the first load. */
  readonly version: number;
}

/**
 * A plain-JSON picture of one client, for status pages, logs and tests
 * (`client.snapshot()`). Defined in core because observers receive it
 * (`ObserverEnvironment.snapshot`); the client builds it.
 */
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
  /** The client's mTLS identity (`.identity(id)` or a transport with `identity`); absent without one. */
  readonly identity?: ClientIdentityStatus;
}
