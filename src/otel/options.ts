import { metrics, SpanKind, trace, type MeterProvider, type Span, type TextMapPropagator, type TracerProvider } from '@opentelemetry/api';
import type { AttemptContext } from '../core/attempt.js';
import type { CallContext } from '../core/call-context.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readBoolean, readChoice, readFunction } from '../core/options.js';
import type { Outcome } from '../core/outcome.js';
import { DEFAULT_REDACTED_QUERY_PARAMS, SEMCONV_REDACTED_QUERY_PARAMS, SIGNED_URL_QUERY_PARAMS } from './redact.js';

/** What {@link OpenTelemetryOptions.requestHook} is told about the span it may annotate. */
export interface RequestHookInfo {
  /** The logical call. */
  readonly call: CallContext;
  /** The attempt, for an attempt span; undefined for the call span. */
  readonly attempt: AttemptContext | undefined;
}

/** What {@link OpenTelemetryOptions.responseHook} is told when a span ends. */
export interface ResponseHookInfo extends RequestHookInfo {
  /** The transport's response (undici's `{ statusCode, headers, body }` for HTTP; read it, never consume the body). */
  readonly response: unknown;
  /** The error, when there was no usable response. */
  readonly error: unknown;
  /** The attempt's classification (attempt spans only). */
  readonly outcome: Outcome | undefined;
}

/** Options of {@link openTelemetry}. Every one is optional: the defaults follow the registered OpenTelemetry SDK. */
export interface OpenTelemetryOptions {
  /** Where spans go. Default the global provider (`trace.getTracerProvider()`, a no-op until an SDK registers one). */
  readonly tracerProvider?: TracerProvider;
  /**
   * Where metrics go. Default the global provider (`metrics.getMeterProvider()`),
   * read when each client is built: register the SDK before building clients.
   */
  readonly meterProvider?: MeterProvider;
  /** Writes trace context into each attempt's headers. Default the global propagation API (W3C `traceparent` once the SDK registers it). */
  readonly propagator?: TextMapPropagator;
  /** Adds attributes to a span as it starts (call span and each attempt span). Runs guarded; called only for recording spans. Default none. */
  readonly requestHook?: (span: Span, info: RequestHookInfo) => void;
  /** Adds attributes to a span before it ends. Runs guarded; called only for recording spans. Default none. */
  readonly responseHook?: (span: Span, info: ResponseHookInfo) => void;
  /**
   * Query parameters whose values are replaced by `REDACTED` in `url.full`,
   * in addition to the signed-URL ones always redacted (the semantic
   * conventions' `AWSAccessKeyId`, `Signature`, `sig`, `X-Goog-Signature`,
   * and AWS's `X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`).
   * Matched without regard to case. Default `token`, `access_token`,
   * `refresh_token`, `id_token`, `api_key`, `api-key`, `apikey`, `key`,
   * `password`, `secret`, `client_secret`, `jwt`, `session`.
   */
  readonly redactQueryParams?: readonly string[];
  /** The URL scheme written in `url.full` (match the transport's protocol). Default `'http'`. */
  readonly urlScheme?: 'http' | 'https';
  /**
   * The route template of an HTTP request (`/orders/{id}`) for the span name
   * and `url.template`; return undefined when unknown. Default none (span
   * names are the method alone, as the conventions ask when no template is known).
   */
  readonly urlTemplate?: (request: { readonly method: string; readonly path: string }) => string | undefined;
  /**
   * The kind of the logical call span. Default `'client'`. Use `'internal'`
   * to keep CLIENT for the attempt spans only (the physical requests), as the
   * HTTP semantic conventions' retry example does.
   */
  readonly callSpanKind?: 'client' | 'internal';
  /** Record metrics. Default true. */
  readonly metrics?: boolean;
  /**
   * Record `meshkit.client.call.duration`, one histogram record per logical
   * call. Default true. Set false when `http.client.request.duration` (one
   * record per attempt) is enough: it saves one SDK record per call, which
   * a View with the drop aggregation does not (the SDK still hashes every
   * record's attributes). No effect when `metrics` is false.
   */
  readonly callDuration?: boolean;
  /** Record spans and inject trace context. Default true. */
  readonly tracing?: boolean;
}

/** {@link OpenTelemetryOptions} validated, with defaults filled in. */
export interface ResolvedOpenTelemetryOptions {
  /** Undefined: the global provider, looked up when a client is built. */
  readonly tracerProvider: TracerProvider | undefined;
  readonly meterProvider: MeterProvider | undefined;
  readonly propagator: TextMapPropagator | undefined;
  readonly requestHook: OpenTelemetryOptions['requestHook'];
  readonly responseHook: OpenTelemetryOptions['responseHook'];
  /** Lower-cased names. */
  readonly redactQueryParams: ReadonlySet<string>;
  readonly urlScheme: 'http' | 'https';
  readonly urlTemplate: OpenTelemetryOptions['urlTemplate'];
  readonly callSpanKind: SpanKind;
  readonly metrics: boolean;
  readonly callDuration: boolean;
  readonly tracing: boolean;
}

function requireMethods(value: unknown, option: string, methods: readonly string[]): void {
  if (value === undefined) return;
  const ok = value !== null && typeof value === 'object'
    && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
  if (!ok) throw invalidConfig(`openTelemetry.${option}`, `an object with ${methods.join(', ')}`, value);
}

const OPEN_TELEMETRY_KEYS: readonly (keyof OpenTelemetryOptions)[] = [
  'tracerProvider', 'meterProvider', 'propagator', 'requestHook', 'responseHook', 'redactQueryParams',
  'urlScheme', 'urlTemplate', 'callSpanKind', 'metrics', 'callDuration', 'tracing',
];

/** Validates options (throwing `ERR_INVALID_CONFIG` naming `openTelemetry.<option>`, unknown keys included) and fills in defaults. */
export function resolveOpenTelemetryOptions(options: OpenTelemetryOptions | undefined): ResolvedOpenTelemetryOptions {
  const o = checkOptions(options === undefined ? {} : options, 'openTelemetry', OPEN_TELEMETRY_KEYS) as OpenTelemetryOptions;
  requireMethods(o.tracerProvider, 'tracerProvider', ['getTracer']);
  requireMethods(o.meterProvider, 'meterProvider', ['getMeter']);
  requireMethods(o.propagator, 'propagator', ['inject', 'extract', 'fields']);
  const requestHook = readFunction<NonNullable<OpenTelemetryOptions['requestHook']>>(o.requestHook, 'openTelemetry.requestHook');
  const responseHook = readFunction<NonNullable<OpenTelemetryOptions['responseHook']>>(o.responseHook, 'openTelemetry.responseHook');
  const urlTemplate = readFunction<NonNullable<OpenTelemetryOptions['urlTemplate']>>(o.urlTemplate, 'openTelemetry.urlTemplate');
  const extra: unknown = o.redactQueryParams ?? DEFAULT_REDACTED_QUERY_PARAMS;
  if (!Array.isArray(extra) || !extra.every((name) => typeof name === 'string' && name !== '')) {
    throw invalidConfig('openTelemetry.redactQueryParams', 'an array of non-empty parameter names', extra);
  }
  const kind = readChoice(o.callSpanKind, 'openTelemetry.callSpanKind', ['client', 'internal'] as const, 'client');
  return {
    tracerProvider: o.tracerProvider,
    meterProvider: o.meterProvider,
    propagator: o.propagator,
    requestHook,
    responseHook,
    redactQueryParams: new Set([...SEMCONV_REDACTED_QUERY_PARAMS, ...SIGNED_URL_QUERY_PARAMS, ...(extra as string[])].map((name) => name.toLowerCase())),
    urlScheme: readChoice(o.urlScheme, 'openTelemetry.urlScheme', ['http', 'https'] as const, 'http'),
    urlTemplate,
    callSpanKind: kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL,
    metrics: readBoolean(o.metrics, 'openTelemetry.metrics', true),
    callDuration: readBoolean(o.callDuration, 'openTelemetry.callDuration', true),
    tracing: readBoolean(o.tracing, 'openTelemetry.tracing', true),
  };
}

/** The tracer provider to use now: the one given, else the global proxy (spans flow once an SDK registers, even later). */
export function tracerProviderOf(options: ResolvedOpenTelemetryOptions): TracerProvider {
  return options.tracerProvider ?? trace.getTracerProvider();
}

/** The meter provider to use now: the one given, else the global one (metrics has no proxy, so it is read at build time). */
export function meterProviderOf(options: ResolvedOpenTelemetryOptions): MeterProvider {
  return options.meterProvider ?? metrics.getMeterProvider();
}
