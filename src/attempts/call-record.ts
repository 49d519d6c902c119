import type { CallContext, Classifier, LatestAttempt } from '../core/call-context.js';
import type { CallTransport } from '../core/call-transport.js';
import type { ObserverSlot } from '../core/call-observer.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Outcome } from '../core/outcome.js';

/**
 * @internal The client's and the executor's record of one call: the public
 * {@link CallContext} plus the bookkeeping of the attempt loop. Created once
 * per call by the client; only the client and the executor write it.
 * Generic over its attempt type so this file needs no import of the attempt
 * class (the executor uses `Call`, from attempt.ts).
 */
export class CallRecord<A extends LatestAttempt = LatestAttempt> implements CallContext, ObserverSlot {
  readonly service: string;
  readonly request: unknown;
  /** How attempts are sent. */
  readonly transport: CallTransport;
  /** How attempt results are classified. */
  readonly classifier: Classifier;
  readonly startedAt: number;
  deadline: number;
  deadlineIsCallers = false;
  /**
   * True once an attempt failed by the upstream's doing (a per-try timeout,
   * a 503): the caller's deadline running out after that, between attempts
   * or during one, is the upstream's (see `deadlineError`, `timeoutError`).
   */
  upstreamFailed = false;
  readonly idempotent: boolean;
  readonly replayable: boolean;
  readonly signal: AbortSignal | undefined;
  readonly hashKey: string | undefined;
  readonly subset: string | undefined;
  admittedAt = 0;
  /** How many of the client's admission gates admitted the call, so exactly those release it. */
  admitted = 0;
  attempts = 0;
  /** Allocated only on a retry or a hedge. */
  tried: Endpoint[] | undefined = undefined;
  current: A | undefined = undefined;
  /** While a hedged race runs: every attempt it started, so abort and the winner can stop the others. */
  hedges: A[] | undefined = undefined;
  /** True when the client's observers watch this call (set at call start). */
  observed = false;
  /** One observer's own record of the call (see {@link ObserverSlot}). */
  observerRecord: unknown = undefined;
  stopped: Error | undefined = undefined;
  /** Links in the executor's list of calls in flight (for close()). */
  activePrev: CallRecord<A> | undefined = undefined;
  activeNext: CallRecord<A> | undefined = undefined;
  /** Settle the promise the caller holds (set by the executor's fast path). */
  resolveCall: ((value: unknown) => void) | undefined = undefined;
  rejectCall: ((error: unknown) => void) | undefined = undefined;
  /** A pause (backoff, waiting for endpoints) that abort or close must cut short. */
  pause: { wake(): void } | undefined = undefined;
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

  hasTried(endpoint: Endpoint): boolean {
    return this.tried !== undefined && this.tried.includes(endpoint);
  }

  classify(response: unknown): Outcome {
    return this.classifier.response(response);
  }

  discard(response: unknown): void {
    this.transport.discard(response);
  }
}
