/**
 * The framework-neutral server side (`meshkit/server`), used with
 * `meshkit/express` or `meshkit/fastify`: the server lifecycle (readiness,
 * draining, leaving the registry before closing), adaptive load shedding,
 * inbound counters, mutual TLS server options for a service identity
 * (`identityServerOptions`) and the authorization seam (`Authorizer`), and
 * the option types the integrations take. The
 * framework glue (middleware, plugin, `listen`) is in the integration's own
 * subpath; the inbound context helpers (`inboundRemainingMs`,
 * `currentInbound`, `runWithInbound`) and `DEADLINE_HEADER` are in `meshkit`.
 *
 * ```ts
 * import { client } from 'meshkit';
 * import { loadShedder, serverLifecycle } from 'meshkit/server';
 *
 * const payments = client('payments').endpoints(['127.0.0.1:8081']).build();
 * // On SIGTERM: leave the registry, wait, drain requests in flight, close `payments`.
 * const lifecycle = serverLifecycle({ clients: [payments], drainTimeout: '10s' });
 * const shedder = loadShedder({ retryAfter: '1s' });
 * console.log(lifecycle.state, shedder.snapshot().limit);
 * ```
 * @packageDocumentation
 */
export { DEFAULT_MAX_DEADLINE_MS, GRPC_TIMEOUT_HEADER, type InboundDeadlineOptions } from './deadline.js';
export type { HealthRoutesOptions } from './health-routes.js';
export type { InboundOptions } from './inbound-scope.js';
export { InboundStats, type InboundSnapshot } from './inbound-stats.js';
export { ServerLifecycle, serverLifecycle, type LeaveOptions, type LifecycleEvent, type LifecycleState } from './lifecycle.js';
export type { Closeable, ServerLifecycleOptions } from './lifecycle-options.js';
export { LoadShedder, loadShedder, type LoadShedderOptions, type LoadShedderSnapshot } from './load-shedder.js';
export type { SelfRegistration } from './self-registration.js';
export { FORBIDDEN_BODY, type Authorizer, type AuthorizationDecision } from '../security/authorizer.js';
export type { MeshkitRequestInfo } from '../security/inbound-gate.js';
export { identityServerOptions, type IdentityServerTlsOptions } from '../security/server-tls.js';
