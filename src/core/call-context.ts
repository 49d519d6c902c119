import type { Endpoint } from './endpoint.js';
import type { Outcome } from './outcome.js';

/** How a call's transport reports results; one per call kind (HTTP, function). */
export interface Classifier<Res = unknown> {
  response(response: Res): Outcome;
  error(error: unknown): Outcome;
}

/**
 * A call's latest attempt as a policy or observer reads it off the call
 * (`call.current`): where it went and, once settled, how it ended.
 */
export interface LatestAttempt {
  /** 1 for the first attempt, 2 for the next (a retry or a hedge), ... */
  readonly number: number;
  /** The endpoint it went to. */
  readonly endpoint: Endpoint;
  /** Clock time when it started. */
  readonly startedAt: number;
  /** Clock time when it settled; 0 while in flight, and when nothing needed the time (no balancer feedback, observer or subscriber). */
  readonly endedAt: number;
  /** Its classification; undefined while it is in flight. */
  readonly outcome: Outcome | undefined;
  /** The transport's response, when there was one (read it, never consume it). */
  readonly response: unknown;
  /** The error, when it failed without a response. */
  readonly error: unknown;
}

/**
 * What one logical call carries through the pipeline, across all of its
 * attempts, as a `Policy`, an admission gate or a `CallObserver` may read
 * it. The client creates one per call; readers must not keep it beyond the
 * call, and a policy passes to `next` the very object it was given.
 * Pickers see less of it: {@link PickArgs} in balancing.
 */
export interface CallContext {
  /** The client's service name. */
  readonly service: string;
  /** What is being sent: an HTTP request, or the governed function for `client.call`. */
  readonly request: unknown;
  /** Clock time when the call entered the pipeline. */
  readonly startedAt: number;
  /** Absolute clock time by which the call must finish; `Infinity` when unbounded. */
  readonly deadline: number;
  /**
   * True when the deadline is the caller's (a per-call `timeout`, or one
   * inherited from the inbound request, tighter than the client's own
   * `timeout.total`): its running out is then the caller's doing, and moves
   * no breaker, estimate or limit. Default false.
   */
  readonly deadlineIsCallers: boolean;
  /** Whether the call may be sent more than once. */
  readonly idempotent: boolean;
  /** False when the request body can be sent only once (a stream): then nothing is retried. */
  readonly replayable: boolean;
  /** The caller's signal, if any. */
  readonly signal: AbortSignal | undefined;
  /** Routing key for hash-based balancers (`options.key`); undefined when none was given. */
  readonly hashKey: string | undefined;
  /** The named subset this call asked for (`options.subset`); undefined to follow the client's split. */
  readonly subset: string | undefined;
  /**
   * Clock time when the call reached the client's admission gates (see
   * core/admission.ts): `startedAt` when no `wrap` policy runs before them;
   * 0 until then.
   */
  readonly admittedAt: number;
  /** Attempts started so far (0 before the first). */
  readonly attempts: number;
  /** Endpoints tried so far, so retries prefer another one; undefined until a retry or hedge. */
  readonly tried: readonly Endpoint[] | undefined;
  /** The latest attempt (the one in flight, or the last one settled); undefined before the first. */
  readonly current: LatestAttempt | undefined;
  /** Set when the caller aborted or the client closed; no further attempt starts. */
  readonly stopped: Error | undefined;
  /** Free-form annotations for policies and telemetry; allocated on first read. */
  readonly attributes: Record<string, unknown>;
  /** Whether `endpoint` already served an attempt of this call. */
  hasTried(endpoint: Endpoint): boolean;
  /** Classifies a response of this call's kind as its transport would (a fallback deciding whether a result failed). */
  classify(response: unknown): Outcome;
  /** Releases a response of this call nobody will read (its body, its connection). */
  discard(response: unknown): void;
}
