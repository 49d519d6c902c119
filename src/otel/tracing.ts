import {
  isSpanContextValid, propagation, ProxyTracerProvider, SpanKind, SpanStatusCode, trace,
  type Attributes, type Context, type Span, type TextMapPropagator, type TextMapSetter, type Tracer, type TracerProvider,
} from '@opentelemetry/api';
import type { ObservedAttempt, SettledAttempt } from '../core/call-observer.js';
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
 * caller's active context) and one CLIENT child span per attempt, whose
 * context is injected into the attempt's outbound headers so the upstream
 * continues the trace under the attempt. Attributes follow the HTTP client
 * semantic conventions; they are computed only for recording spans, so a
 * no-op tracer costs two span objects per call.
 */
export class Tracing {
  readonly #tracer: Tracer;
  /** Set when the provider is the API's proxy: while it delegates to the no-op, calls are not traced at all. */
  readonly #proxy: ProxyTracerProvider | undefined;
  readonly #propagator: TextMapPropagator | undefined;
  readonly #options: ResolvedOpenTelemetryOptions;
  readonly #requestHook: ((span: Span, info: RequestHookInfo) => void) | undefined;
  readonly #responseHook: ((span: Span, info: ResponseHookInfo) => void) | undefined;

  constructor(provider: TracerProvider, tracer: Tracer, options: ResolvedOpenTelemetryOptions) {
    this.#tracer = tracer;
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
    const span = this.#tracer.startSpan(state.name, { kind: this.#options.callSpanKind }, state.parent);
    state.span = span;
    if (!span.isRecording()) return;
    span.setAttribute(ATTR.service, call.service);
    if (state.method !== undefined) {
      this.#setMethod(span, state.method);
      if (state.template !== undefined) span.setAttribute(ATTR.urlTemplate, state.template);
    }
    this.#requestHook?.(span, { call, attempt: undefined });
  }

  /** Starts an attempt's span as a child of the call span and injects its context into the attempt's headers. */
  startAttempt(state: CallState, record: AttemptState, attempt: ObservedAttempt): void {
    const callSpan = state.span;
    if (callSpan === undefined) return;
    const parent = (state.spanContext ??= trace.setSpan(state.parent, callSpan));
    const span = this.#tracer.startSpan(state.name, { kind: SpanKind.CLIENT }, parent);
    record.span = span;
    // Inject even when not recording: a sampled-out trace still carries its ids (and the sampled flag) downstream.
    const injected = trace.setSpan(state.parent, span);
    if (this.#propagator !== undefined) this.#propagator.inject(injected, attempt, ATTEMPT_SETTER);
    else propagation.inject(injected, attempt, ATTEMPT_SETTER);
    if (record.kind === 'hedge' && callSpan.isRecording()) {
      callSpan.addEvent('meshkit.hedge', { [ATTR.attempt]: attempt.number, [ATTR.endpointId]: attempt.endpoint.id });
    }
    if (!span.isRecording()) return;
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
  }

  /** Ends an attempt's span with its outcome. */
  endAttempt(record: AttemptState, attempt: SettledAttempt): void {
    const span = record.span;
    if (span === undefined) return;
    record.span = undefined;
    if (span.isRecording()) {
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
      this.#responseHook?.(span, { call: attempt.call, attempt, response, error, outcome });
    }
    span.end();
  }

  /** Ends the call span: the final attempt's endpoint and status, the call's error. */
  endCall(state: CallState, call: CallContext, error: unknown, result: unknown): void {
    const span = state.span;
    if (span === undefined) return;
    state.span = undefined;
    if (span.isRecording()) {
      const last = call.current;
      const attributes: Attributes = { [ATTR.attempts]: call.attempts };
      if (last !== undefined) {
        attributes[ATTR.endpointId] = last.endpoint.id;
        this.#endpointAttributes(attributes, state, last.endpoint);
      }
      if (state.hedges > 0) attributes[ATTR.hedges] = state.hedges;
      const status = state.method === undefined ? 0 : statusOf(error === undefined ? result : last?.response);
      if (status > 0) attributes[ATTR.statusCode] = status;
      span.setAttributes(attributes);
      if (last?.outcome?.retryable === true && state.retryBudgetExhausted) {
        span.addEvent('meshkit.retry_budget.exhausted', { [ATTR.attempts]: call.attempts });
      }
      this.#setFailure(span, status, error);
      this.#responseHook?.(span, { call, attempt: undefined, response: error === undefined ? result : undefined, error, outcome: undefined });
    }
    span.end();
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
    state.redactedPath ??= redactPath(state.path, this.#options.redactQueryParams);
    attributes[ATTR.urlFull] = `${this.#options.urlScheme}://${endpoint.id}${state.redactedPath}`;
    if (state.template !== undefined) attributes[ATTR.urlTemplate] = state.template;
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
