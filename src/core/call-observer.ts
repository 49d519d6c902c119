import type { AttemptContext } from './attempt.js';
import type { CallContext } from './call-context.js';
import type { BreakerStateMessage } from './breaker-state.js';
import type { ClientSnapshot } from './client-snapshot.js';
import type { Clock } from './clock.js';
import type { EjectionMessage } from './diagnostics.js';
import type { Outcome } from './outcome.js';

/** An attempt as an observer sees it when it starts: it may add headers for the next hop. */
export interface ObservedAttempt extends AttemptContext {
  /**
   * Adds a header to this attempt's outbound request (trace context). The
   * HTTP transports send it; `client.call` functions read
   * `attempt.outboundHeaders` and carry it their own way (gRPC metadata).
   */
  setOutboundHeader(name: string, value: string): void;
}

/** An attempt as an observer sees it when it has settled. */
export interface SettledAttempt extends AttemptContext {
  /** Clock time when it settled. */
  readonly endedAt: number;
  /** Its classification (set once). */
  readonly outcome: Outcome | undefined;
  /** The transport's response, when there was one (it may be discarded later: read, never consume). */
  readonly response: unknown;
  /** The error, when the attempt failed without a response. */
  readonly error: unknown;
}

/**
 * Watches calls as they run, synchronously and in order: the seam telemetry
 * plugs into (see `meshkit/otel`). Unlike the diagnostics channels it is
 * per client and may change the outbound request (trace headers). Every
 * method is optional; an observer must not throw (the client guards it
 * anyway) and must not keep the objects it is given beyond the call.
 */
export interface CallObserver {
  /**
   * A call entered the client: runs in the caller's async context, before
   * any policy. Return `false` when this observer records nothing for the
   * call (no SDK, not sampled): when every observer says so, no other hook
   * runs for it and the call costs what it would without observers.
   */
  callStart?(call: CallContext): boolean | void;
  /** An attempt is about to be sent to its endpoint. */
  attemptStart?(attempt: ObservedAttempt): void;
  /**
   * A hedge of the call is about to go out (see `.hedge()`): the call's next
   * `attemptStart` is that hedge. `hedges` counts the call's hedges so far,
   * this one included.
   */
  hedgeStart?(call: CallContext, hedges: number): void;
  /**
   * A retry was due, but the retry budget had no room for it: the call ends
   * with its last attempt's result. At most once per call.
   */
  retryBudgetExhausted?(call: CallContext): void;
  /** An attempt settled (answered, failed, timed out, or was cancelled). */
  attemptEnd?(attempt: SettledAttempt): void;
  /** The call settled: `error` is undefined on success; `result` is what the caller receives. */
  callEnd?(call: CallContext, error: unknown, result: unknown): void;
  /** Releases what the observer holds; `client.close()` calls it. */
  close?(): void | Promise<void>;
}

/** What an observer factory learns about the client it serves. */
export interface ObserverEnvironment {
  readonly service: string;
  readonly clock: Clock;
  /** The client's state (endpoints, budgets, policy state) as plain JSON, for observable gauges. Off the hot path. */
  snapshot(): ClientSnapshot;
  /** The client's own breaker and ejection news (not another client's of the same service name). */
  readonly hooks?: ObservedClientHooks;
}

/** The hooks of the client an observer serves that it may subscribe to; each returns its unsubscribe function. */
export interface ObservedClientHooks {
  onBreakerState(listener: (event: BreakerStateMessage) => void): () => void;
  onEjection(listener: (event: EjectionMessage) => void): () => void;
}

/** Makes one observer per built client (the builder may build several). */
export interface CallObserverFactory {
  readonly name: string;
  create(environment: ObserverEnvironment): CallObserver;
}

/**
 * @internal A slot on the client's record of each call where one observer
 * may keep its own record of the call, so that it needs no map from calls to
 * records (a long-lived map with an entry per call costs the garbage
 * collector dearly; see otel/calls-in-flight.ts). Undefined when the call
 * starts; the first observer to fill it owns it for the call and empties it
 * when the call ends. A `CallContext` that is not the client's record has
 * no slot: observers then keep a `WeakMap`.
 */
export interface ObserverSlot {
  observerRecord: unknown;
}
