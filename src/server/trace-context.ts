import type { IncomingHttpHeaders } from 'node:http';

type OtelApi = typeof import('@opentelemetry/api');
type SpanContext = import('@opentelemetry/api').SpanContext;

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

// W3C Trace Context (https://www.w3.org/TR/trace-context/#traceparent-header), parsed by hand: no
// regular expression, no lower-casing, no match array on a path taken per inbound request.
const DASH = 0x2d;
const SPACE = 0x20;
const TAB = 0x09;
/** `00-` + 32 + `-` + 16 + `-` + 2: the whole of a version 00 header, the least of any version. */
const TRACEPARENT_LENGTH = 55;

/** The value of a lower-case hex digit (`0-9a-f`), or -1: W3C allows no upper case (HEXDIGLC). */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** True when `value[from, to)` is lower-case hex and not all zeros (an all-zero trace or parent id is invalid). */
function nonZeroHex(value: string, from: number, to: number): boolean {
  let any = 0;
  for (let i = from; i < to; i++) {
    const digit = hexValue(value.charCodeAt(i));
    if (digit === -1) return false;
    any |= digit;
  }
  return any !== 0;
}

/**
 * Parses a W3C `traceparent` header value into a remote span context, or
 * `undefined` when W3C Trace Context says to ignore it: any upper-case or
 * non-hex digit, version `ff`, an all-zero trace or parent id, a version 00
 * header with anything after its flags, or a later version whose flags are
 * followed by something other than `-`. Spaces and tabs around the value
 * (HTTP's optional whitespace) are allowed. Only the sampled flag is kept.
 */
function parseTraceparent(value: string): SpanContext | undefined {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === SPACE || value.charCodeAt(start) === TAB)) start++;
  while (end > start && (value.charCodeAt(end - 1) === SPACE || value.charCodeAt(end - 1) === TAB)) end--;
  const length = end - start;
  if (length < TRACEPARENT_LENGTH) return undefined;
  const v1 = hexValue(value.charCodeAt(start));
  const v2 = hexValue(value.charCodeAt(start + 1));
  if (v1 === -1 || v2 === -1 || (v1 === 15 && v2 === 15)) return undefined;
  // Version 00 has exactly these fields; a later version may append `-`-separated ones this parser skips.
  if (v1 === 0 && v2 === 0 ? length !== TRACEPARENT_LENGTH : length > TRACEPARENT_LENGTH && value.charCodeAt(start + TRACEPARENT_LENGTH) !== DASH) {
    return undefined;
  }
  if (value.charCodeAt(start + 2) !== DASH || value.charCodeAt(start + 35) !== DASH || value.charCodeAt(start + 52) !== DASH) return undefined;
  if (!nonZeroHex(value, start + 3, start + 35) || !nonZeroHex(value, start + 36, start + 52)) return undefined;
  const flagsHigh = hexValue(value.charCodeAt(start + 53));
  const flagsLow = hexValue(value.charCodeAt(start + 54));
  if (flagsHigh === -1 || flagsLow === -1) return undefined;
  return {
    traceId: value.slice(start + 3, start + 35),
    spanId: value.slice(start + 36, start + 52),
    traceFlags: flagsLow & 1,
    isRemote: true,
  };
}

// @opentelemetry/api keeps what an application registered on a global that every copy of the API (major
// version 1) shares, and `propagation.disable()` deletes it. That is the only way to tell "none registered"
// apart: the API's no-op propagator answers like a registered one that extracts nothing (no fields, the
// context as given), as does a `CompositePropagator` of none or a propagator meant to ignore callers.
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

function propagatorRegistered(): boolean {
  const registry = (globalThis as { [API_GLOBAL]?: { propagation?: unknown } })[API_GLOBAL];
  return registry?.propagation !== undefined;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Runs `fn` with the trace context of an inbound request as the active
 * OpenTelemetry context, so spans started inside (meshkit's outbound call
 * spans among them) continue the caller's trace.
 *
 * It does nothing (runs `fn` as is) when `@opentelemetry/api` is not
 * installed or not loaded yet, or when a span is already active (an HTTP
 * instrumentation made a server span from the same request: that span is the
 * better parent). Otherwise the globally registered propagator extracts from
 * every request, whatever headers it reads (W3C, B3, Jaeger, baggage), and
 * `fn` runs in what it found; what it ignores stays ignored. Only when no
 * propagator is registered at all (the API's no-op default) are
 * `traceparent`/`tracestate` read directly as W3C Trace Context, strictly
 * (see {@link parseTraceparent}).
 */
export function runInTraceContext<T>(headers: IncomingHttpHeaders, fn: () => T): T {
  const otel = api;
  if (otel === undefined || otel === null) return fn();
  const active = otel.context.active();
  if (otel.trace.getSpan(active) !== undefined) return fn();
  // The API's default getter reads Node's lower-cased header names as they are: nothing allocated per request.
  const extracted = otel.propagation.extract(active, headers);
  if (extracted !== active) return otel.context.with(extracted, fn);
  // A registered propagator that found nothing has the last word (an edge may register one that trusts no caller).
  if (propagatorRegistered()) return fn();
  const traceparent = headers['traceparent'];
  if (typeof traceparent !== 'string') return fn();
  const spanContext = parseTraceparent(traceparent);
  if (spanContext === undefined) return fn();
  const tracestate = header(headers, 'tracestate');
  if (tracestate !== undefined) spanContext.traceState = otel.createTraceState(tracestate);
  return otel.context.with(otel.trace.setSpanContext(active, spanContext), fn);
}
