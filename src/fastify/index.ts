/**
 * meshkit for Fastify 5 (`meshkit/fastify`): a plugin that gives every route
 * the inbound context (deadline and trace parent inherited by each meshkit
 * call a handler makes), load shedding, health routes, self-registration and
 * graceful shutdown.
 *
 * ```ts
 * await app.register(meshkit, {
 *   service: 'orders',
 *   shedding: {},
 *   lifecycle: { clients: [payments] },
 *   register: { registrar: consul({ service: 'orders' }), instance: { service: 'orders' } },
 * });
 * await app.listen({ port: 8080, host: '127.0.0.1' });
 * ```
 * @packageDocumentation
 */
import './options.js';

export { meshkit, meshkit as default } from './plugin.js';
export type { MeshkitFastify, MeshkitFastifyOptions } from './options.js';

export type { SelfRegistration } from '../server/self-registration.js';
export type { MeshkitRequestInfo } from '../security/inbound-gate.js';
export { FORBIDDEN_BODY, type Authorizer, type AuthorizationDecision } from '../security/authorizer.js';
export { identityServerOptions, type IdentityServerTlsOptions } from '../security/server-tls.js';
export { DEADLINE_HEADER } from '../transports/deadline-header.js';
export { currentInbound, inboundRemainingMs, runWithInbound, type InboundContext } from '../core/inbound-context.js';
export { DEFAULT_MAX_DEADLINE_MS, GRPC_TIMEOUT_HEADER, type InboundDeadlineOptions } from '../server/deadline.js';
export { InboundStats, type InboundSnapshot } from '../server/inbound-stats.js';
export type { InboundOptions } from '../server/inbound-scope.js';
export { LoadShedder, loadShedder, type LoadShedderOptions, type LoadShedderSnapshot } from '../server/load-shedder.js';
export type { HealthRoutesOptions } from '../server/health.js';
export { ServerLifecycle, serverLifecycle, type LeaveOptions, type LifecycleEvent, type LifecycleState } from '../server/lifecycle.js';
export type { Closeable, ServerLifecycleOptions } from '../server/lifecycle-options.js';
export { gradient2, vegas, aimd } from '../policies/limits/index.js';
