import type { IncomingHttpHeaders } from 'node:http';

type OtelApi = typeof import('@opentelemetry/api');

/** `undefined` until the import settles; `null` when `@opentelemetry/api` is not installed. */
let api: OtelApi | null | undefined;
let loading: Promise<void> | undefined;

/**
 * Starts importing `@opentelemetry/api` (an optional peer) once per process
 * and resolves when it has settled, found or not. It never rejects: without
 * the package, inbound requests simply carry no trace context.
 */
export function loadTraceApi(): Promise<void> {
  loading ??= import('@opentelemetry/api').then(
    (module) => {
      api = module;
    },
    () => {
      api = null;
    },
  );
  return loading;
}

/** The loaded `@opentelemetry/api`; `undefined` before {@link loadTraceApi} settles or without the package. */
export function loadedTraceApi(): OtelApi | undefined {
  return api ?? undefined;
}

/** True once {@link loadTraceApi} has settled (so {@link runInTraceContext} can run synchronously). */
export function traceApiSettled(): boolean {
  return api !== undefined;
}

// W3C Trace Context: version 00, 32 hex trace id, 16 hex parent id, 2 hex flags (future versions may append fields).
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Runs `fn` with the W3C trace context of an inbound request as the active
 * OpenTelemetry context, so spans started inside (meshkit's outbound call
 * spans among them) continue the caller's trace.
 *
 * It does nothing (runs `fn` as is) when `@opentelemetry/api` is not
 * installed or not loaded yet, when a span is already active (an HTTP
 * instrumentation made a server span from the same header: that span is the
 * better parent), or when the request has no valid `traceparent`.
 * Extraction uses the globally registered propagator; when none is
 * registered (the API's default is a no-op), `traceparent`/`tracestate` are
 * read directly as W3C Trace Context.
 */
export function runInTraceContext<T>(headers: IncomingHttpHeaders, fn: () => T): T {
  const otel = api;
  if (otel === undefined || otel === null) return fn();
  const traceparent = header(headers, 'traceparent');
  if (traceparent === undefined) return fn();
  const active = otel.context.active();
  if (otel.trace.getSpan(active) !== undefined) return fn();
  let extracted = otel.propagation.extract(active, headers, {
    get: (carrier, key) => carrier[key],
    keys: (carrier) => Object.keys(carrier),
  });
  if (otel.trace.getSpanContext(extracted) === undefined) {
    const match = TRACEPARENT.exec(traceparent.trim().toLowerCase());
    if (match === null || match[1] === 'ff' || match[2] === ZERO_TRACE || match[3] === ZERO_SPAN) return fn();
    if (match[1] === '00' && match[5] !== undefined) return fn();
    const tracestate = header(headers, 'tracestate');
    extracted = otel.trace.setSpanContext(active, {
      traceId: match[2] as string,
      spanId: match[3] as string,
      traceFlags: Number.parseInt(match[4] as string, 16) & 1,
      isRemote: true,
      ...(tracestate === undefined ? {} : { traceState: otel.createTraceState(tracestate) }),
    });
  }
  return otel.context.with(extracted, fn);
}
