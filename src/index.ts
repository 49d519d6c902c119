/**
 * meshkit: an in-process service mesh for Node. Start with {@link client}.
 * @packageDocumentation
 */
export { client, ClientBuilder } from './client/builder.js';
export { Client, type ClientConfig, type CloseOptions } from './client/client.js';
export type { ClientClosing } from './client/client-closing.js';
export type { EndpointsSnapshot } from './attempts/endpoint-state.js';
export type { ClientIdentityStatus, ClientSnapshot, EndpointStatus } from './core/client-snapshot.js';
export { snapshotAll } from './client/registry.js';
export type { FetchInput } from './client/fetch-facade.js';
export type { CallOptions, GovernedCallOptions, QueryParameters, QueryValue, RequestDefaults, RequestOptions } from './client/request-options.js';
export type { BreakerStateEvent, DiscoveryErrorEvent, EjectionEvent, EndpointsChangedEvent, RetryEvent } from './client/client-events.js';
export type { ClientHooks } from './client/client-hooks.js';

export type { AttemptContext } from './core/attempt.js';
export type { CallContext, Classifier, LatestAttempt } from './core/call-context.js';
export { systemClock, wallClockNow, type Clock, type TimerHandle } from './core/clock.js';
export {
  channels, subscribe,
  type AttemptEndMessage, type AttemptStartMessage, type CallEndMessage, type ChannelMessages,
  type DiscoveryErrorMessage, type DiscoveryStaleMessage, type EndpointsMessage, type EjectionMessage,
} from './core/diagnostics.js';
export type { CallObserver, CallObserverFactory, ObservedAttempt, ObserverEnvironment, SettledAttempt } from './core/call-observer.js';
export { runWithInbound, currentInbound, inboundRemainingMs, type InboundContext } from './core/inbound-context.js';
export { MAX_DURATION_MS, parseDuration, parseDurationOrInfinity, type Duration } from './core/duration.js';
export { toEndpoint, endpointId, isUnspecifiedAddress, type Endpoint, type EndpointInput, type EndpointObject } from './core/endpoint.js';
export { MeshkitError, blameOf, isMeshkitError, type MeshkitErrorCode, type MeshkitErrorDetails, type MeshkitErrorOptions } from './core/errors.js';
export { Outcomes, type Blame, type Outcome, type OutcomeReason } from './core/outcome.js';
export { composePolicies, type Invoke, type Policy } from './core/policy.js';
export { splitPipeline, wrapGate, type AdmissionEnvironment, type AdmissionGate, type PipelineStages } from './core/admission.js';

export type { Resolver, ResolverListener, ResolverUpdate } from './discovery/resolver.js';
export { staticEndpoints, type StaticEndpointsOptions } from './discovery/static.js';
export { filterResolver, type EndpointFilter } from './discovery/endpoint-filter.js';
export { allowCidrs } from './discovery/cidr.js';
export { RejectedAnswerError } from './discovery/rejected-answer.js';

export type { Balancer, BalancerEnvironment, BalancerFactory, EndpointLoad, PickArgs, Picker } from './balancing/balancer.js';
export { roundRobin } from './balancing/round-robin.js';
export { subsets, type SubsetOptions } from './balancing/subsets.js';
export type { SubsetSelector } from './balancing/subset-selector.js';
export {
  leastRequest, peakEwma, random, ringHash, weighted, zoneAware,
  type LeastRequestOptions, type PeakEwmaOptions, type RingHashOptions, type ZoneAwareOptions,
} from './balancing/index.js';

export { DEFAULT_RETRY, type RetryOptions, type RetrySettings } from './attempts/retry.js';
export { DEFAULT_RETRY_BUDGET, type RetryBudgetOptions, type RetryBudgetSettings } from './attempts/retry-budget.js';
export { DEADLINE_HEADER, withAttemptHeaders } from './transports/deadline-header.js';
export type { HedgeOptions, HedgeSettings } from './attempts/hedge.js';
export type { TimeoutOptions, TimeoutSettings } from './attempts/timeout.js';

export { classifyError } from './transports/error-classifier.js';
export type { GovernedFunction } from './transports/function.js';
export { DEFAULT_RETRYABLE_STATUSES } from './transports/http-classifier.js';
export type { HttpBody, HttpHeaders, HttpRequest, HttpResponse } from './transports/http-types.js';
export type { Transport } from './transports/transport.js';
export { undiciTransport, type HttpTransportFactory, type HttpTransportSettings, type UndiciTransportOptions } from './transports/undici.js';
export type { HttpConnection, TransportTlsOptions } from './transports/connection.js';
export { TLS_UNVERIFIED_WARNING } from './core/tls-warning.js';
export { fileIdentity, type FileIdentityOptions } from './security/file-identity.js';
export type { Identity, IdentityEvent, IdentityMaterial, IdentityStatus } from './security/identity.js';
export type { ServiceSpiffeId } from './security/spiffe.js';
export type { Authorizer, AuthorizationDecision } from './security/authorizer.js';
export type { Peer } from './security/peer.js';

export { sharedResolver, configureDiscoveryCache, discoveryCacheEntries, type RejectedEntry, type WatchSink, type WatchSource, type DiscoveryCacheEntry, type DiscoveryCacheOptions } from './discovery/shared-watch.js';
export type { DiscoveryRejectedMessage } from './core/diagnostics.js';
export { fullJitterBackoff } from './core/backoff.js';
export { register, type RegisterOptions } from './registration/register.js';
export type { HealthCheck, Registrar, Registration, ServiceInstance } from './registration/registrar.js';
export type { EndpointHealth } from './health/endpoint-health-filter.js';
export type { EjectionReason } from './core/ejection.js';
export type { OutlierDetectionOptions, OutlierSettings } from './health/outlier-options.js';
export type { HealthCheckOptions, HealthCheckSettings } from './health/active-health-check-options.js';
export type { EndpointCircuitBreakerOptions, EndpointCircuitBreakerSettings } from './health/endpoint-breaker-options.js';

export { fallback, type FallbackFailure, type FallbackHandler, type FallbackOptions, type FallbackWhen } from './policies/fallback.js';
export { staticResponse, type StaticResponseOptions } from './policies/fallback-response.js';
export {
  faultInjection, FAULT_INJECTED,
  type FaultInjectionOptions, type FaultInjectionPolicy, type FaultDelayOptions, type FaultAbortOptions,
} from './policies/fault-injection.js';
export { bulkhead, DEFAULT_BULKHEAD, type BulkheadOptions, type BulkheadPolicy, type BulkheadSettings, type BulkheadLimit } from './policies/bulkhead.js';
export {
  adaptiveThrottle, DEFAULT_ADAPTIVE_THROTTLE,
  type AdaptiveThrottleOptions, type AdaptiveThrottlePolicy, type AdaptiveThrottleSettings, type AdaptiveThrottleState,
} from './policies/adaptive-throttle.js';
export { rateLimit, DEFAULT_RATE_LIMIT, type RateLimitOptions, type RateLimitPolicy, type RateLimitSettings } from './policies/rate-limit.js';
export {
  circuitBreaker, breakerStateChannel, breakerRotations, DEFAULT_CIRCUIT_BREAKER,
  type CircuitBreakerOptions, type CircuitBreakerSettings, type CircuitBreakerPolicy, type CircuitBreakerStats,
  type RotationInfo,
} from './policies/circuit-breaker.js';
export {
  opossumCircuitBreaker, type OpossumCircuitBreakerOptions, type OpossumCircuitBreakerPolicy, type OpossumBreaker,
} from './policies/circuit-breaker-opossum.js';
export type { BreakerStateMessage, CircuitState, ObservedBreaker } from './core/breaker-state.js';
export { adaptiveConcurrency, type AdaptiveConcurrencyOptions, type AdaptiveConcurrencyPolicy } from './policies/adaptive-concurrency.js';
export {
  gradient2, vegas, aimd, ConcurrencyLimiter,
  type Gradient2Options, type VegasOptions, type AimdOptions, type LimitAlgorithm, type Limit,
  type ConcurrencyLimiterOptions, type LimiterSignal, type SampleWindowOptions,
} from './policies/limits/index.js';
// What each policy's snapshot() returns (client.snapshot().policies[i].state; keys documented in docs/status-page.md).
export type { CircuitBreakerSnapshot } from './policies/circuit-breaker.js';
export type { BulkheadSnapshot } from './policies/bulkhead.js';
export type { AdaptiveConcurrencySnapshot } from './policies/adaptive-concurrency.js';
export type { AdaptiveThrottleSnapshot } from './policies/adaptive-throttle.js';
export type { RateLimitSnapshot } from './policies/rate-limit.js';
export type { FaultInjectionSnapshot } from './policies/fault-injection.js';
export type { FallbackSnapshot } from './policies/fallback.js';
