/**
 * meshkit for Express 4 and 5 (`meshkit/express`): the inbound context
 * (deadline and trace parent inherited by every meshkit call a handler
 * makes), load shedding, health routes and a `listen()` that wires
 * self-registration and graceful shutdown.
 *
 * ```ts
 * const lifecycle = serverLifecycle({ clients: [orders] });
 * app.use(health(lifecycle));
 * app.use(inbound({ service: 'gateway' }));
 * app.use(shedding());
 * app.get('/orders/:id', async (req, res) => res.json(await (await orders.request({ path: `/v1/${req.params.id}` })).body.json()));
 * await listen(app, { port: 8080, lifecycle, register: { registrar: consul({ service: 'gateway' }), instance: { service: 'gateway' } } });
 * ```
 * @packageDocumentation
 */
export { inbound, type InboundMiddleware } from './inbound.js';
export { shedding, type SheddingMiddleware } from './shedding.js';
export { health } from './health.js';
export { listen, type ListenOptions, type MeshkitServer } from './listen.js';
export type { SelfRegistration } from '../server/self-registration.js';
export type { Middleware } from './middleware.js';
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
