/**
 * OpenTelemetry tracing and metrics for meshkit clients (`meshkit/otel`).
 * Uses `@opentelemetry/api` only (an optional peer dependency): the SDK,
 * exporters and sampling are the application's choice. See docs/telemetry.md.
 *
 * ```ts
 * import { openTelemetry } from 'meshkit/otel';
 * const orders = client('orders').endpoints(['10.0.0.7:8080']).telemetry(openTelemetry()).build();
 * ```
 * @packageDocumentation
 */
import type { CallObserverFactory, ObserverEnvironment } from '../core/call-observer.js';
import { OpenTelemetryObserver } from './observer.js';
import { resolveOpenTelemetryOptions, type OpenTelemetryOptions } from './options.js';

export type { OpenTelemetryOptions, RequestHookInfo, ResponseHookInfo } from './options.js';
export { DURATION_BUCKETS, METRIC } from './call-metrics.js';
export { IDENTITY_METRIC, identityMetrics, type IdentityMetricsOptions } from './identity-metrics.js';
export { HOOK_ERROR_CODE } from './hook-guard.js';
export { INSTRUMENTATION_SCOPE } from './observer.js';
export { REDACTED, SEMCONV_REDACTED_QUERY_PARAMS, SIGNED_URL_QUERY_PARAMS, DEFAULT_REDACTED_QUERY_PARAMS, redactUrl } from './redact.js';
export { ATTR } from './semconv.js';
export type { CallObserverFactory } from '../core/call-observer.js';

/**
 * Telemetry for `client(...).telemetry(openTelemetry())`: a span per logical
 * call with a child CLIENT span per attempt (HTTP client semantic
 * conventions; W3C trace context injected into each attempt's headers), and
 * metrics on the meter `meshkit` (`http.client.request.duration` and
 * meshkit's instruments, see docs/telemetry.md).
 *
 * With no options it uses the global providers and propagator of
 * `@opentelemetry/api`: an application that registered the SDK gets
 * telemetry with nothing else to do, and one that did not pays almost
 * nothing (no-op spans, no metric attributes built). Throws
 * `ERR_INVALID_CONFIG` for bad options.
 */
export function openTelemetry(options?: OpenTelemetryOptions): CallObserverFactory {
  const resolved = resolveOpenTelemetryOptions(options);
  return Object.freeze({
    name: 'openTelemetry',
    create: (environment: ObserverEnvironment) => new OpenTelemetryObserver(environment, resolved),
  });
}
