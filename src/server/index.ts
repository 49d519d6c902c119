/**
 * The framework-neutral inbound side, shared by `meshkit/express` and
 * `meshkit/fastify`: deadline header parsing, the inbound context and trace
 * context, load shedding, health and the shutdown lifecycle.
 * @internal
 */
export {
  DEADLINE_HEADER,
} from '../transports/deadline-header.js';
export {
  DEFAULT_MAX_DEADLINE_MS, GRPC_TIMEOUT_HEADER, inboundDeadline, parseGrpcTimeout, parseMeshkitDeadline, requestedDeadlineMs, resolveDeadlineOptions,
  type InboundDeadlineOptions, type InboundDeadlineSettings,
} from './deadline.js';
export { InboundStats, type InboundSnapshot } from './inbound-stats.js';
export { inboundContextOf, resolveInboundOptions, runInbound, type InboundOptions, type InboundSettings } from './inbound-scope.js';
export { loadTraceApi, runInTraceContext, traceApiSettled } from './trace-context.js';
export { LoadShedder, loadShedder, type LoadShedderOptions, type LoadShedderSnapshot } from './load-shedder.js';
export { healthAnswer, resolveHealthRoutes, writeHealth, type HealthRoutes, type HealthRoutesOptions } from './health.js';
export { ServerLifecycle, serverLifecycle, type LeaveOptions, type LifecycleEvent, type LifecycleState } from './lifecycle.js';
export type { Closeable, ServerLifecycleOptions, ServerLifecycleSettings } from './lifecycle-options.js';
export { RequestTracker } from './request-tracker.js';
export { DEADLINE_EXCEEDED_BODY, overloadedBody, writeDeadlineExceeded, writeJson, writeOverloaded } from './responses.js';
export { instanceAt, type SelfRegistration } from './self-registration.js';
