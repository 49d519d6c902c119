import type { Attempt, AttemptContext } from './attempt.js';
import type { Endpoint } from './endpoint.js';
import type { Outcome } from './outcome.js';

/** How a call's transport reports results; one per call kind (HTTP, function). */
export interface Classifier<Res = unknown> {
  response(response: Res): Outcome;
  error(error: unknown): Outcome;
}

/** The transport half a call needs (see `Transport` in transports/transport.ts). */
export interface CallTransport<Req = unknown, Res = unknown> {
  send(endpoint: Endpoint, request: Req, attempt: AttemptContext): Promise<Res>;
  discard(response: Res): void;
  /**
   * @internal Optional callback form of `send`, preferred when present: the
   * transport reports the result through `attempt.deliver(response)` or
   * `attempt.fail(error)` (exactly once, never synchronously), so no promise
   * or closure is made per attempt.
   */
  start?(endpoint: Endpoint, request: Req, attempt: AttemptSink<Res>): void;
}

/** @internal What {@link CallTransport.start} reports an attempt's result to. */
export interface AttemptSink<Res = unknown> extends AttemptContext {
  deliver(response: Res): void;
  fail(error: unknown): void;
  /** The body of the delivered response failed upstream (not by the caller's doing) while being read. */
  bodyFailed(error: unknown): void;
}

/**
 * What one logical call carries through the pipeline, across all of its
 * attempts. Created once per call; policies may read it and annotate
 * `attributes`, and must not replace its fields.
 */
export class CallContext {
  /** The client's service name. */
  readonly service: string;
  /** What is being sent: an HTTP request, or the governed function for `client.call`. */
  readonly request: unknown;
  /** @internal How attempts are sent. */
  readonly transport: CallTransport;
  /** @internal How attempt results are classified. */
  readonly classifier: Classifier;
  /** Clock time when the call entered the pipeline. */
  readonly startedAt: number;
  /** Absolute clock time by which the call must finish; `Infinity` when unbounded. */
  deadline: number;
  /**
   * True when the deadline is the caller's (a per-call `timeout`, or one
   * inherited from the inbound request, tighter than the client's own
   * `timeout.total`): its running out is then the caller's doing, and moves
   * no breaker, estimate or limit.
   */
  deadlineIsCallers = false;
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
   * core/admission.ts): `startedAt` when no `wrap` policy runs before them.
   */
  admittedAt = 0;
  /** @internal How many of the client's admission gates admitted the call, so exactly those release it. */
  admitted = 0;
  /** Attempts started so far. */
  attempts = 0;
  /** Endpoints tried so far, so retries prefer another one; allocated only on a retry. */
  tried: Endpoint[] | undefined = undefined;
  /** The attempt in flight (the latest one). */
  current: Attempt | undefined = undefined;
  /** @internal While a hedged race runs: every attempt it started, so abort and the winner can stop the others. */
  hedges: Attempt[] | undefined = undefined;
  /** @internal True when the client's observers watch this call (set at call start). */
  observed = false;
  /** Set when the caller aborted or the client closed; no further attempt starts. */
  stopped: Error | undefined = undefined;
  /** @internal Links in the executor's list of calls in flight (for close()). */
  activePrev: CallContext | undefined = undefined;
  /** @internal */ activeNext: CallContext | undefined = undefined;
  /** @internal Settle the promise the caller holds (set by the executor's fast path). */
  resolveCall: ((value: unknown) => void) | undefined = undefined;
  /** @internal */ rejectCall: ((error: unknown) => void) | undefined = undefined;
  /** @internal A pause (backoff, waiting for endpoints) that abort or close must cut short. */
  pause: { wake(): void } | undefined = undefined;
  /** Free-form annotations for policies and telemetry; allocated on first use. */
  #attributes: Record<string, unknown> | undefined = undefined;

  constructor(
    service: string,
    request: unknown,
    transport: CallTransport,
    classifier: Classifier,
    startedAt: number,
    deadline: number,
    idempotent: boolean,
    replayable: boolean,
    signal: AbortSignal | undefined,
    hashKey: string | undefined = undefined,
    subset: string | undefined = undefined,
  ) {
    this.service = service;
    this.request = request;
    this.transport = transport;
    this.classifier = classifier;
    this.startedAt = startedAt;
    this.deadline = deadline;
    this.idempotent = idempotent;
    this.replayable = replayable;
    this.signal = signal;
    this.hashKey = hashKey;
    this.subset = subset;
  }

  get attributes(): Record<string, unknown> {
    return (this.#attributes ??= {});
  }

  /** Whether `endpoint` already served an attempt of this call. */
  hasTried(endpoint: Endpoint): boolean {
    return this.tried !== undefined && this.tried.includes(endpoint);
  }
}
