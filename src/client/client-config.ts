import type { Balancer } from '../balancing/balancer.js';
import type { HedgeSettings } from '../attempts/hedge.js';
import type { RetrySettings } from '../attempts/retry.js';
import type { TimeoutSettings } from '../attempts/timeout.js';
import type { CallObserverFactory } from '../core/call-observer.js';
import type { Clock } from '../core/clock.js';
import type { Policy } from '../core/policy.js';
import type { Resolver } from '../discovery/resolver.js';
import type { HealthCheckSettings } from '../health/active-health-check-options.js';
import type { EndpointCircuitBreakerSettings } from '../health/endpoint-breaker-options.js';
import type { OutlierSettings } from '../health/outlier-options.js';
import type { HttpTransportFactory } from '../transports/undici.js';
import type { ResolvedRequestDefaults } from './request-shape.js';

/** Everything a client is built from; frozen by the builder. */
export interface ClientConfig {
  readonly name: string;
  readonly resolver: Resolver;
  readonly balancer: { readonly name: string; readonly readsSubset?: boolean; create(environment: { service: string; clock: Clock }): Balancer };
  readonly timeouts: TimeoutSettings;
  readonly retry: RetrySettings;
  readonly transport: HttpTransportFactory;
  readonly policies: readonly Policy[];
  readonly clock: Clock;
  /** Outlier detection settings; undefined when off. */
  readonly outlierDetection: OutlierSettings | undefined;
  /** Hedging settings; undefined when off. */
  readonly hedge: HedgeSettings | undefined;
  /** Active health check settings; undefined when off. */
  readonly healthCheck: HealthCheckSettings | undefined;
  /** Per-endpoint circuit breaker settings; undefined when off. */
  readonly endpointBreakers?: EndpointCircuitBreakerSettings | undefined;
  /** Call observers (telemetry), in the order added. */
  readonly observers: readonly CallObserverFactory[];
  /** Base path and headers for `request()` and `fetch()`, from `.defaults()`; undefined for none. */
  readonly requestDefaults?: ResolvedRequestDefaults | undefined;
}

/** Options of `client.close()`. */
export interface CloseOptions {
  /**
   * How long calls in flight, and response bodies still being read, may take
   * to finish before they are aborted with `ERR_CLIENT_CLOSED`. Default `'5s'`;
   * at most 2^31 - 1 ms (Node's timer limit): a longer one rejects with
   * `ERR_INVALID_CONFIG` and closes nothing.
   */
  readonly timeout?: number | string;
}
