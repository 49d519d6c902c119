import {
  isSpanContextValid, propagation, ProxyTracerProvider, SpanKind, SpanStatusCode, trace,
  type Attributes, type Context, type Span, type TextMapPropagator, type TextMapSetter, type Tracer, type TracerProvider,
} from '@opentelemetry/api';
import type { AttemptContext } from '../core/attempt.js';
import type { ObservedAttempt, SettledAttempt } from '../core/call-observer.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { CallContext } from '../core/call-context.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Outcome } from '../core/outcome.js';
import type { AttemptState, CallState } from './call-state.js';
import { guardHook } from './hook-guard.js';
import type { RequestHookInfo, ResolvedOpenTelemetryOptions, ResponseHookInfo } from './options.js';
import { redactPath } from './redact.js';
import { ATTR, errorType, semconvMethod, statusOf } from './semconv.js';

/** Writes propagated fields as outbound headers of the attempt. */
const ATTEMPT_SETTER: TextMapSetter<ObservedAttempt> = {
  set(carrier, key, value) {
    carrier.setOutboundHeader(key, value);
  },
};

/** Options of an attempt span started now. */
const ATTEMPT_SPAN = Object.freeze({ kind: SpanKind.CLIENT });

/** The API's no-op provider: what a proxy provider delegates to until an SDK registers. */
const NOOP_TRACER_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate();

/** True when an attempt ended because another attempt of its hedged call answered first. */
export function isHedgeLoser(outcome: Outcome | undefined, error: unknown): boolean {
  if (outcome?.reason !== 'aborted' || error === null || typeof error !== 'object') return false;
  const details = (error as { details?: { reason?: unknown } }).details;
  return details?.reason === 'hedge-lost';
}

/**
 * Spans for calls and attempts: one span per logical call (its parent is the
 * caller's active context) and, for a call with more than one attempt, one
 * CLIENT child span per attempt. A call sent once is one span: the CLIENT
 * call span carries its attempt's endpoint, status and outcome, and its
 * context is what the attempt's headers carry (an INTERNAL call span, option
 * `callSpanKind: 'internal'`, cannot stand for a request: then every attempt
 * has its span). When a second attempt starts, the first gets
 * its span after all (back-dated to its start) and every later attempt
 * injects its own span's context, so the upstream continues the trace under
 * it. Attributes follow the HTTP client semantic conventions; they are
 * computed only for recording spans.
 */
export class Tracing {
  readonly #tracer: Tracer;
  /** Set when the provider is the API's proxy: while it delegates to the no-op, calls are not traced at all. */
  readonly #proxy: ProxyTracerProvider | undefined;
  readonly #propagator: TextMapPropagator | undefined;
  readonly #options: ResolvedOpenTelemetryOptions;
  readonly #requestHook: ((span: Span, info: RequestHookInfo) => void) | undefined;
  readonly #responseHook: ((span: Span, info: ResponseHookInfo) => void) | undefined;
  readonly #clock: Clock;
  /** Whether a first attempt's span waits for a second attempt: only when the call span is a CLIENT span that can stand for it. */
  readonly #deferFirst: boolean;

  constructor(provider: TracerProvider, tracer: Tracer, options: ResolvedOpenTelemetryOptions, clock: Clock) {
    this.#tracer = tracer;
    this.#clock = clock;
    this.#deferFirst = options.callSpanKind === SpanKind.CLIENT;
    this.#proxy = provider instanceof ProxyTracerProvider ? provider : undefined;
    this.#propagator = options.propagator;
    this.#options = options;
    this.#requestHook = guardHook('requestHook', options.requestHook);
    this.#responseHook = guardHook('responseHook', options.responseHook);
  }

  /**
   * Whether to trace a call starting under `parent`. No, when no SDK is
   * registered behind the global proxy and the caller carries no trace of its
   * own: then a span would be a no-op and there is nothing to propagate, so
   * the call costs nothing. Checked per call, so an SDK registered later is
   * picked up.
   */
  wanted(parent: Context): boolean {
    const proxy = this.#proxy;
    if (proxy === undefined || proxy.getDelegate() !== NOOP_TRACER_PROVIDER) return true;
    // A caller's trace (extracted from an inbound request) still flows through: the no-op tracer passes its ids on.
    const inbound = trace.getSpanContext(parent);
    return inbound !== undefined && isSpanContextValid(inbound);
  }

  /** Starts the call span under the caller's context. */
  startCall(state: CallState): void {
    const call = state.call;
    const kind = this.#options.callSpanKind;
    const startTime = this.#time(call.startedAt);
    const span = this.#tracer.startSpan(state.name, startTime === undefined ? { kind } : { kind, startTime }, state.parent);
    state.span = span;
    if (!span.isRecording()) return;
    span.setAttribute(ATTR.service, call.service);
    if (state.method !== undefined) {
      this.#setMethod(span, state.method);
      if (state.template !== undefined) span.setAttribute(ATTR.urlTemplate, state.template);
    }
    this.#requestHook?.(span, { call, attempt: undefined });
  }

  /**
   * An attempt starts. The first attempt gets no span of its own: the CLIENT
   * call span stands for it (the conventions allow one span for a request sent
   * once), and its headers carry the call span's context. A later attempt
   * (retry or hedge) first gives the first attempt its span, back-dated to
   * when it started, then starts its own as a child of the call span and
   * injects that into its headers.
   */
  startAttempt(state: CallState, record: AttemptState, attempt: ObservedAttempt): void {
    const callSpan = state.span;
    if (callSpan === undefined) return;
    const parent = (state.spanContext ??= trace.setSpan(state.parent, callSpan));
    if (record.kind === 'first' && this.#deferFirst) {
      state.first = record;
      this.#inject(parent, attempt);
      return;
    }
    const first = state.first;
    if (first !== undefined && !first.spanned) this.#openFirst(state, first, parent);
    const span = this.#startAttemptSpan(state, record, attempt, parent, this.#time(attempt.startedAt));
    // Inject even when not recording: a sampled-out trace still carries its ids (and the sampled flag) downstream.
    this.#inject(trace.setSpan(state.parent, span), attempt);
    if (record.kind === 'hedge' && callSpan.isRecording()) {
      callSpan.addEvent('meshkit.hedge', { [ATTR.attempt]: attempt.number, [ATTR.endpointId]: attempt.endpoint.id });
    }
  }

  /** Ends an attempt's span with its outcome; a first attempt whose span is still deferred is kept for later. */
  endAttempt(record: AttemptState, attempt: SettledAttempt): void {
    const span = record.span;
    if (span === undefined) {
      if (record.kind === 'first' && !record.spanned) record.settled = attempt;
      return;
    }
    record.span = undefined;
    if (span.isRecording()) {
      this.#settle(span, attempt);
      this.#responseHook?.(span, { call: attempt.call, attempt, response: attempt.response, error: attempt.error, outcome: attempt.outcome });
    }
    span.end(this.#time(attempt.endedAt));
  }

  /** Ends the call span: the final attempt's endpoint and status, the call's error. */
  endCall(state: CallState, call: CallContext, error: unknown, result: unknown, now: number): void {
    const span = state.span;
    if (span === undefined) return;
    state.span = undefined;
    if (span.isRecording()) {
      const last = call.current;
      // Set one by one: the SDK validates each attribute anyway, and no object is made to carry them.
      span.setAttribute(ATTR.attempts, call.attempts);
      if (last !== undefined) {
        const endpoint = last.endpoint;
        span.setAttribute(ATTR.endpointId, endpoint.id);
        span.setAttribute(ATTR.serverAddress, endpoint.host);
        span.setAttribute(ATTR.serverPort, endpoint.port);
        // Method and template are on the call span since it started.
        if (state.method !== undefined) span.setAttribute(ATTR.urlFull, this.#urlFull(state, endpoint));
        const first = state.first;
        // The call's only attempt had no span: its classification goes on the call span.
        if (first !== undefined && !first.spanned) this.#foldAttempt(span, last);
      }
      if (state.hedges > 0) span.setAttribute(ATTR.hedges, state.hedges);
      const status = state.method === undefined ? 0 : statusOf(error === undefined ? result : last?.response);
      if (status > 0) span.setAttribute(ATTR.statusCode, status);
      if (last?.outcome?.retryable === true && state.retryBudgetExhausted) {
        span.addEvent('meshkit.retry_budget.exhausted', { [ATTR.attempts]: call.attempts });
      }
      this.#setFailure(span, status, error);
      this.#responseHook?.(span, { call, attempt: undefined, response: error === undefined ? result : undefined, error, outcome: undefined });
    }
    span.end(this.#time(now));
  }

  /** Ends an attempt span the executor never settled (defensive: the call ended first). */
  abandonAttempt(record: AttemptState): void {
    const span = record.span;
    if (span === undefined) return;
    record.span = undefined;
    if (span.isRecording()) span.setAttribute(ATTR.cancelled, true);
    span.end();
  }

  /** Ends a call span the client never settled before it closed (defensive). */
  abandonCall(state: CallState): void {
    const span = state.span;
    if (span === undefined) return;
    state.span = undefined;
    if (span.isRecording()) span.setAttribute(ATTR.cancelled, true);
    span.end();
  }

  /** Gives the first attempt its span after all, back-dated to its start, and ends it if it already settled. */
  #openFirst(state: CallState, first: AttemptState, parent: Context): void {
    first.spanned = true;
    this.#startAttemptSpan(state, first, first.attempt, parent, this.#time(first.attempt.startedAt));
    const settled = first.settled;
    if (settled !== undefined) this.endAttempt(first, settled);
  }

  /** Starts an attempt span (its record keeps it) with the attempt's attributes, and runs the request hook. */
  #startAttemptSpan(state: CallState, record: AttemptState, attempt: AttemptContext, parent: Context, startTime: number | undefined): Span {
    const span = this.#tracer.startSpan(state.name, startTime === undefined ? ATTEMPT_SPAN : { kind: SpanKind.CLIENT, startTime }, parent);
    record.span = span;
    if (!span.isRecording()) return span;
    const attributes: Attributes = {
      [ATTR.service]: state.call.service,
      [ATTR.attempt]: attempt.number,
      [ATTR.endpointId]: attempt.endpoint.id,
    };
    this.#endpointAttributes(attributes, state, attempt.endpoint);
    if (attempt.number > 1) attributes[ATTR.resendCount] = attempt.number - 1;
    if (record.kind === 'hedge') attributes[ATTR.hedge] = true;
    span.setAttributes(attributes);
    this.#requestHook?.(span, { call: state.call, attempt });
    return span;
  }

  /** An attempt's status, outcome, cancellation and failure on its span. */
  #settle(span: Span, attempt: SettledAttempt): void {
    const { outcome, error, response } = attempt;
    const status = statusOf(response) || (outcome?.status ?? 0);
    if (status > 0) span.setAttribute(ATTR.statusCode, status);
    if (outcome !== undefined) span.setAttribute(ATTR.outcome, outcome.reason);
    if (isHedgeLoser(outcome, error)) {
      // Cancelled on purpose: not an error of the upstream nor of the call.
      span.setAttribute(ATTR.cancelled, true);
      span.addEvent('meshkit.hedge.lost');
    } else {
      if (outcome?.reason === 'aborted') span.setAttribute(ATTR.cancelled, true);
      this.#setFailure(span, status, error);
    }
  }

  /** The only attempt's classification, for the call span that stands for it. */
  #foldAttempt(span: Span, attempt: { readonly outcome?: Outcome | undefined }): void {
    const outcome = attempt.outcome;
    if (outcome === undefined) return;
    span.setAttribute(ATTR.outcome, outcome.reason);
    if (outcome.reason === 'aborted') span.setAttribute(ATTR.cancelled, true);
  }

  /** Injects `carrier`'s trace context into the attempt's outbound headers. */
  #inject(carrier: Context, attempt: ObservedAttempt): void {
    if (this.#propagator !== undefined) this.#propagator.inject(carrier, attempt, ATTEMPT_SETTER);
    else propagation.inject(carrier, attempt, ATTEMPT_SETTER);
  }

  /**
   * A clock time as a span time, in epoch milliseconds. The system clock reads
   * `performance.now()`; every span meshkit makes is stamped from it, on one
   * base (`performance.timeOrigin`), so a back-dated first attempt always lies
   * within its call. (Left to the SDK, a start is `Date.now()` and a
   * `performance.now()` time is shifted by an offset each span measures with
   * two reads, which a busy machine can set milliseconds apart.) Another
   * clock's times mean nothing to the SDK: the SDK stamps those spans itself.
   */
  #time(at: number): number | undefined {
    return this.#clock === systemClock && at > 0 ? performance.timeOrigin + at : undefined;
  }

  #setMethod(span: Span, method: string): void {
    const known = semconvMethod(method);
    span.setAttribute(ATTR.method, known);
    if (known !== method) span.setAttribute(ATTR.methodOriginal, method);
  }

  /** server.address / server.port, and url.full + method for HTTP calls. */
  #endpointAttributes(attributes: Attributes, state: CallState, endpoint: Endpoint): void {
    attributes[ATTR.serverAddress] = endpoint.host;
    attributes[ATTR.serverPort] = endpoint.port;
    const original = state.method;
    if (original === undefined) return;
    const method = semconvMethod(original);
    attributes[ATTR.method] = method;
    if (method !== original) attributes[ATTR.methodOriginal] = original;
    attributes[ATTR.urlFull] = this.#urlFull(state, endpoint);
    if (state.template !== undefined) attributes[ATTR.urlTemplate] = state.template;
  }

  /** `url.full` of an HTTP call's request to `endpoint`, redacted. */
  #urlFull(state: CallState, endpoint: Endpoint): string {
    state.redactedPath ??= redactPath(state.path, this.#options.redactQueryParams);
    return `${this.#options.urlScheme}://${endpoint.id}${state.redactedPath}`;
  }

  /** error.type and ERROR status for failures: an error, or a status >= 400 (client spans, per the conventions). */
  #setFailure(span: Span, status: number, error: unknown): void {
    if (error !== undefined) {
      const type = errorType(error);
      span.setAttribute(ATTR.errorType, type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : type });
    } else if (status >= 400) {
      span.setAttribute(ATTR.errorType, String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }
}
