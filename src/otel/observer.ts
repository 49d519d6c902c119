import { context } from '@opentelemetry/api';
import type { AttemptContext } from '../core/attempt.js';
import type { CallContext } from '../core/call-context.js';
import type { CallObserver, ObservedAttempt, ObserverEnvironment, SettledAttempt } from '../core/call-observer.js';
import type { Clock } from '../core/clock.js';
import { CallMetrics } from './call-metrics.js';
import { AttemptState, CallState, httpMethodOf, type AttemptKind } from './call-state.js';
import { CallsInFlight } from './calls-in-flight.js';
import { guardHook } from './hook-guard.js';
import { meterProviderOf, tracerProviderOf, type ResolvedOpenTelemetryOptions } from './options.js';
import { httpSpanName } from './semconv.js';
import { forwardClientEvents } from './span-events.js';
import { Tracing } from './tracing.js';

/** The instrumentation scope meshkit reports under (tracer and meter name). */
export const INSTRUMENTATION_SCOPE = 'meshkit';
/** meshkit's version, reported as the instrumentation scope version. */
export const INSTRUMENTATION_VERSION = '0.1.0';

/**
 * One client's OpenTelemetry observer: keeps a record per call in flight
 * (with its attempts) and hands it to tracing and metrics. The record is
 * dropped when the call ends, so nothing outlives a call. A call that is
 * neither traced (no SDK) nor metered (no-op meter) gets no record at all.
 */
export class OpenTelemetryObserver implements CallObserver {
  readonly #service: string;
  readonly #clock: Clock;
  readonly #tracing: Tracing | undefined;
  /** Undefined when metrics are off or the meter is the API's no-op. */
  readonly #metrics: CallMetrics | undefined;
  /** Not a Map: see calls-in-flight.ts. */
  readonly #calls = new CallsInFlight();
  readonly #unsubscribe: (() => void) | undefined;
  readonly #urlTemplate: ((request: { method: string; path: string }) => string | undefined) | undefined;
  /** The span name of `client.call` calls (the service is fixed per client). */
  readonly #callName: string;

  constructor(environment: ObserverEnvironment, options: ResolvedOpenTelemetryOptions) {
    this.#service = environment.service;
    this.#clock = environment.clock;
    this.#callName = `${environment.service} call`;
    if (options.tracing) {
      const provider = tracerProviderOf(options);
      this.#tracing = new Tracing(provider, provider.getTracer(INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION), options, environment.clock);
    }
    if (options.metrics) {
      const metrics = new CallMetrics(
        meterProviderOf(options).getMeter(INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION),
        environment.service,
        () => environment.snapshot(),
        options.callDuration,
      );
      if (!metrics.noop) this.#metrics = metrics;
    }
    const template = guardHook('urlTemplate', options.urlTemplate);
    this.#urlTemplate = template === undefined ? undefined : (request) => {
      const value: unknown = template(request);
      return typeof value === 'string' && value !== '' ? value : undefined;
    };
    this.#unsubscribe = this.#tracing === undefined ? undefined : forwardClientEvents(environment, this.#calls);
  }

  callStart(call: CallContext): boolean {
    const parent = context.active();
    const traced = this.#tracing !== undefined && this.#tracing.wanted(parent);
    if (!traced && this.#metrics === undefined) return false; // nothing would be recorded: the call skips every other hook
    const method = httpMethodOf(call.request);
    let name = this.#callName;
    let template: string | undefined;
    let path = '';
    if (method !== undefined) {
      path = (call.request as { path: string }).path;
      template = this.#urlTemplate?.({ method, path });
      name = httpSpanName(method, template);
    }
    const state = new CallState(call, parent, method, path, name, template);
    this.#calls.add(state);
    if (traced) (this.#tracing as Tracing).startCall(state);
    return true;
  }

  attemptStart(attempt: ObservedAttempt): void {
    const state = this.#calls.get(attempt.call);
    if (state === undefined) return;
    const record = new AttemptState(attempt, this.#kindOf(state, attempt));
    state.addAttempt(record);
    if (state.span !== undefined) this.#tracing?.startAttempt(state, record, attempt);
    this.#metrics?.attemptStarted(record.kind);
  }

  hedgeStart(call: CallContext, hedges: number): void {
    const state = this.#calls.get(call);
    if (state === undefined) return;
    state.hedges = hedges;
    state.hedgeNext = true;
  }

  retryBudgetExhausted(call: CallContext): void {
    const state = this.#calls.get(call);
    if (state !== undefined) state.retryBudgetExhausted = true;
  }

  attemptEnd(attempt: SettledAttempt): void {
    const state = this.#calls.get(attempt.call);
    const record = state?.takeAttempt(attempt);
    if (state === undefined || record === undefined) return;
    this.#tracing?.endAttempt(record, attempt);
    this.#metrics?.attemptEnded(state, attempt, record.kind);
  }

  callEnd(call: CallContext, error: unknown, result: unknown): void {
    const state = this.#calls.take(call);
    if (state === undefined) return;
    // Should not happen (the executor settles every attempt before the call), but never leak a span.
    if (state.hasOpenAttempts) for (const record of state.takeAll()) this.#tracing?.abandonAttempt(record);
    const now = this.#clock.now();
    this.#tracing?.endCall(state, call, error, result, now);
    this.#metrics?.callEnded(state, error, result, now);
  }

  close(): void {
    this.#unsubscribe?.();
    this.#metrics?.close();
    for (const state of this.#calls.takeAll()) {
      for (const record of state.takeAll()) this.#tracing?.abandonAttempt(record);
      this.#tracing?.abandonCall(state);
    }
  }

  /** A hedge when the executor counted a new hedge before starting it; a retry when it follows another attempt; else the first. */
  #kindOf(state: CallState, attempt: AttemptContext): AttemptKind {
    if (attempt.number === 1) return 'first';
    if (!state.hedgeNext) return 'retry';
    state.hedgeNext = false;
    return 'hedge';
  }
}
