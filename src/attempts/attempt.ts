import type { AttemptContext } from '../core/attempt.js';
import type { Endpoint } from '../core/endpoint.js';
import { MeshkitError } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import { TimerEntry, type TimerQueue } from '../core/timer-queue.js';
import type { CallRecord } from './call-record.js';

/** @internal A call as the attempt loop holds it: its record, whose attempts are {@link Attempt}s. */
export type Call = CallRecord<Attempt>;

type Settle = (attempt: Attempt) => void;

/** @internal Who settles an attempt: the executor that started it. */
export interface AttemptOwner {
  /** The transport answered. */
  response(attempt: Attempt, response: unknown): void;
  /** The transport failed. */
  error(attempt: Attempt, error: unknown): void;
  /** The attempt's timer expired. */
  timeout(attempt: Attempt): void;
  /** The body of the response the caller got is done with (read, dumped or destroyed): undici let go of the attempt. */
  bodyEnd(attempt: Attempt): void;
  /** That body failed upstream (a stall past the body timeout, a reset) while the caller read it. */
  bodyFailed(attempt: Attempt, error: unknown): void;
}

/**
 * One try of a call against one endpoint. It is also the timeout entry and the
 * abort source of its request (in the EventEmitter `once`/`removeListener`
 * protocol undici accepts for a `signal`; the undici transport's handler
 * listens to it directly), so an attempt costs one object instead of an
 * AbortController, a timer and a wrapper.
 * @internal Only {@link AttemptContext} is public.
 */
export class Attempt<Res = unknown> extends TimerEntry implements AttemptContext {
  readonly call: Call;
  readonly number: number;
  readonly endpoint: Endpoint;
  readonly startedAt: number;
  endedAt = 0;
  /** Set exactly once, when the attempt settles. */
  outcome: Outcome | undefined = undefined;
  response: Res | undefined = undefined;
  error: unknown = undefined;
  /** True when the timer armed for this attempt is the call's deadline, not the per-try timeout. */
  timerIsDeadline = false;
  /** @internal True while the attempt's timer entry is armed for its call's hedge delay rather than its timeout. */
  hedgeDue = false;
  /** @internal When the attempt times out, while {@link hedgeDue} (its entry is re-armed for it then); `Infinity` for never. */
  timeoutAt = 0;
  /** Abort state in the EventEmitter-signal protocol undici reads. */
  aborted = false;
  reason: unknown = undefined;
  /** @internal Resolves the attempt's promise. */
  settle: Settle | undefined = undefined;
  outboundHeaders: Record<string, string> | undefined = undefined;
  /**
   * @internal True from when the caller got this attempt's response until
   * its body is done: the call's deadline and signal still govern the body,
   * and an upstream failure of the body counts against the endpoint.
   */
  bodyOpen = false;
  #listener: (() => void) | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  readonly #owner: AttemptOwner | undefined;

  constructor(call: Call, number: number, endpoint: Endpoint, startedAt: number, owner?: AttemptOwner) {
    super();
    this.call = call;
    this.number = number;
    this.endpoint = endpoint;
    this.startedAt = startedAt;
    this.#owner = owner;
  }

  /**
   * @internal Arms the attempt's one timer entry, from `now`: its per-try
   * timeout, or the call's deadline when that comes first
   * ({@link timerIsDeadline}); with a `hedgeDelay` shorter than that, the
   * entry rings first at the hedge delay ({@link hedgeDue}), then is re-armed
   * for {@link timeoutAt}. A hedge delay at or past the timeout could never
   * fire: the attempt would have timed out first.
   */
  arm(timers: TimerQueue, perTryMs: number, hedgeDelay: number | undefined, now: number): void {
    const remaining = this.call.deadline - now;
    let delay = perTryMs;
    if (remaining <= delay) {
      delay = remaining;
      this.timerIsDeadline = true;
    }
    if (hedgeDelay !== undefined && hedgeDelay < delay) {
      this.hedgeDue = true;
      this.timeoutAt = now + delay;
      timers.schedule(this, hedgeDelay, now);
    } else if (delay !== Infinity) {
      timers.schedule(this, delay, now);
    }
  }

  /** @internal Transport callback (`CallTransport.start`): the response arrived. */
  deliver(response: Res): void {
    this.#owner?.response(this, response);
  }

  /** @internal Transport callback (`CallTransport.start`): the attempt failed. */
  fail(error: unknown): void {
    this.#owner?.error(this, error);
  }

  /** @internal Transport callback: the body of the delivered response failed upstream while being read. */
  bodyFailed(error: unknown): void {
    if (this.bodyOpen) this.#owner?.bodyFailed(this, error);
  }

  /** @internal True while the transport listens to this attempt's abort (until the response body is done). */
  get listening(): boolean {
    return this.#listener !== undefined;
  }

  get deadline(): number {
    return this.call.deadline;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.reason);
    }
    return this.#controller.signal;
  }

  /** Adds a header to this attempt's outbound request (used by call observers). */
  setOutboundHeader(name: string, value: string): void {
    (this.outboundHeaders ??= {})[name] = value;
  }

  /** Latency in ms once settled. */
  get duration(): number {
    return this.endedAt - this.startedAt;
  }

  /** EventEmitter protocol (undici): remembers the single abort listener. */
  once(_event: 'abort', listener: () => void): this {
    this.#listener = listener;
    return this;
  }

  /** EventEmitter protocol: undici checks that `on` exists before it calls `once`. */
  on(event: 'abort', listener: () => void): this {
    return this.once(event, listener);
  }

  /**
   * EventEmitter protocol (undici): forgets the listener when the request
   * completes, which is when the response body is destroyed (read to its
   * end, dumped or destroyed); an open body ends here, for free.
   */
  removeListener(_event: 'abort', listener: () => void): this {
    if (this.#listener === listener) {
      this.#listener = undefined;
      if (this.bodyOpen) this.#owner?.bodyEnd(this);
    }
    return this;
  }

  /** Aborts the work in flight for this attempt (the transport request and the lazy signal). */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
    this.#controller?.abort(reason);
  }

  override onTimeout(): void {
    this.#owner?.timeout(this);
  }

  /** The attempt's result for the caller: the response, or its error thrown. */
  result(): Res {
    if (this.error !== undefined) throw this.error;
    return this.response as Res;
  }
}

/**
 * The error a per-try timeout or an exhausted deadline produces. A deadline
 * the caller set (see `CallContext.deadlineIsCallers`) running out before the
 * per-try timeout could is the caller's doing, unless an earlier attempt of
 * the call had already failed by the upstream's doing (`call.upstreamFailed`:
 * a per-try timeout, a 503), as for the deadline running out between
 * attempts (`deadlineError`); the client's own total is the upstream's.
 */
export function timeoutError(attempt: Attempt, timeoutMs: number): MeshkitError {
  return attempt.timerIsDeadline
    ? new MeshkitError('ERR_DEADLINE_EXCEEDED', `${attempt.call.service}: deadline exceeded during attempt ${attempt.number}`, {
        service: attempt.call.service, endpoint: attempt.endpoint.id, attempt: attempt.number,
      }, { blame: attempt.call.deadlineIsCallers && !attempt.call.upstreamFailed ? 'caller' : 'upstream' })
    : new MeshkitError('ERR_TIMEOUT', `${attempt.call.service}: attempt ${attempt.number} to ${attempt.endpoint.id} timed out after ${timeoutMs} ms`, {
        service: attempt.call.service, endpoint: attempt.endpoint.id, attempt: attempt.number, timeoutMs,
      });
}

/**
 * Releases a response of `call` that nobody will read (a late answer, a
 * retried or losing one). A transport's `discard` that throws is ignored:
 * the response is being dropped anyway, and the call must still end.
 */
export function discardQuietly(call: Call, response: unknown): void {
  try {
    call.transport.discard(response);
  } catch {
    // Ignored: see above.
  }
}
