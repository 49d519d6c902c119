import type { IncomingHttpHeaders } from 'node:http';
import type { AttemptSink } from '../core/call-transport.js';
import type { TimerHandle } from '../core/clock.js';
import type { QueueLinks } from '../core/linked-queue.js';
import type { HttpRequest, HttpResponse } from '../transports/http-types.js';
import { SimBody, type SimBodyOwner } from './backend-body.js';
import { bodyStalled, connectionReset, headersTimedOut } from './backend-errors.js';
import type { SimHandlerResult } from './backend-behaviour.js';

/** The undici timeouts a simulated request is held to, in ms (`Infinity` for none). */
export interface SimTimeouts {
  /** No headers by then (from the attempt's start): `UND_ERR_HEADERS_TIMEOUT`. */
  readonly headersMs: number;
  /** A body with no data for this long fails (`ERR_TIMEOUT`, phase body). */
  readonly bodyMs: number;
}

/** What an exchange needs of its backend. */
export interface ExchangeHost {
  /** Schedules `callback` at virtual time `at`. */
  at(at: number, callback: () => void): TimerHandle;
  cancel(handle: TimerHandle): void;
  now(): number;
  /** The caller aborted the request (or undici gave up on its headers) while the backend held it. */
  abandoned(exchange: SimExchange): void;
  /** The request's service time is over (and its handler, if any, answered). */
  served(exchange: SimExchange): void;
  /** A stalled body the backend held is done. */
  released(exchange: SimExchange): void;
}

/** What happens to a request, drawn on arrival. */
export const Fate = Object.freeze({ Ok: 0, Error: 1, Reset: 2, Stall: 3, Blackhole: 4 } as const);
export type Fate = (typeof Fate)[keyof typeof Fate];

/** Where a request is in the backend. */
export const Stage = Object.freeze({ Queued: 0, Serving: 1, Stalled: 2, Done: 3 } as const);
export type Stage = (typeof Stage)[keyof typeof Stage];

const EMPTY_RECORD: Readonly<Record<string, never>> = Object.freeze({});

/** The EventEmitter abort protocol meshkit's attempts speak to undici (see attempts/attempt.ts). */
interface EmitterSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  once(event: 'abort', listener: () => void): unknown;
  removeListener(event: 'abort', listener: () => void): unknown;
}

function speaksEmitter(attempt: object): attempt is EmitterSignal {
  return typeof (attempt as Partial<EmitterSignal>).once === 'function' && typeof (attempt as Partial<EmitterSignal>).removeListener === 'function';
}

/** A response shaped as undici's `ResponseData`. */
export function simResponse(statusCode: number, headers: IncomingHttpHeaders, body: SimBody): HttpResponse {
  return { statusCode, statusText: '', headers, trailers: EMPTY_RECORD, opaque: null, context: EMPTY_RECORD, body } as unknown as HttpResponse;
}

/**
 * One request from its arrival at a simulated backend to its answer: the
 * seam between the backend (capacity, failures, statistics) and the
 * attempt that sent it. It speaks to the attempt as undici does: it holds the
 * attempt as its abort signal only while it must hear of an abort (the
 * backend cancels on abort, or a stalled body is being read), delivers
 * responses and errors asynchronously, and fails a stalled body the way
 * undici's body timeout does.
 */
export class SimExchange implements QueueLinks<SimExchange>, SimBodyOwner {
  prev: SimExchange | undefined = undefined;
  next: SimExchange | undefined = undefined;
  readonly host: ExchangeHost;
  readonly attempt: AttemptSink<HttpResponse>;
  readonly request: HttpRequest;
  readonly timeouts: SimTimeouts;
  /** Virtual time the request reached the backend. */
  readonly arrivedAt: number;
  fate: Fate = Fate.Ok;
  stage: Stage = Stage.Queued as Stage;
  /** Parts still to finish before the answer goes out: the service time, and the handler when there is one. */
  pending = 1;
  /** The handler's answer, when a handler served the request. */
  result: SimHandlerResult | undefined = undefined;
  /** The backend stopped caring about the request (its caller aborted and it cancels, or it went down). */
  abandoned = false;
  #serviceEnd: TimerHandle | undefined = undefined;
  #bodyTimer: TimerHandle | undefined = undefined;
  #headersTimer: TimerHandle | undefined = undefined;
  #listener: (() => void) | undefined = undefined;
  #body: SimBody | undefined = undefined;

  constructor(host: ExchangeHost, attempt: AttemptSink<HttpResponse>, request: HttpRequest, timeouts: SimTimeouts, arrivedAt: number) {
    this.host = host;
    this.arrivedAt = arrivedAt;
    this.attempt = attempt;
    this.request = request;
    this.timeouts = timeouts;
  }

  /** Arms undici's headers timeout when nothing else (the per-try timeout, the deadline) would end the wait first. */
  armHeadersTimeout(perTryMs: number): void {
    const headersMs = this.timeouts.headersMs;
    const attempt = this.attempt;
    if (headersMs === Infinity || headersMs >= perTryMs || headersMs >= attempt.deadline - attempt.startedAt) return;
    this.#headersTimer = this.host.at(attempt.startedAt + headersMs, () => {
      this.#headersTimer = undefined;
      if (this.stage === Stage.Done || this.stage === Stage.Stalled) return;
      this.attempt.fail(headersTimedOut());
      this.host.abandoned(this);
    });
  }

  /** Hears of the attempt's abort from now on. */
  listen(): void {
    if (this.#listener !== undefined) return;
    const listener = (): void => this.#onAbort();
    this.#listener = listener;
    const attempt = this.attempt;
    if (speaksEmitter(attempt)) attempt.once('abort', listener);
    else attempt.signal.addEventListener('abort', listener, { once: true });
  }

  /** True when the attempt was aborted (it will not read an answer). */
  get callerGone(): boolean {
    const attempt = this.attempt;
    return speaksEmitter(attempt) ? attempt.aborted : attempt.signal.aborted;
  }

  /** Ends the service time at virtual time `at`. */
  scheduleServiceEnd(at: number): void {
    this.#serviceEnd = this.host.at(at, this.#onServiceEnd);
  }

  /** One part (the service time or the handler) finished. */
  partDone(): void {
    if (--this.pending === 0 && !this.abandoned) this.host.served(this);
  }

  readonly #onServiceEnd = (): void => {
    this.#serviceEnd = undefined;
    this.partDone();
  };

  /** Answers with a complete body. */
  respond(status: number, headers: IncomingHttpHeaders, bytes: Uint8Array | undefined): void {
    this.#finish();
    this.#unlisten();
    const attempt = this.attempt;
    if (this.callerGone) attempt.fail(this.#abortReason());
    else attempt.deliver(simResponse(status, headers, new SimBody(bytes, false)));
  }

  /**
   * Sends the headers of a 200 whose body never comes: it ends when the
   * caller aborts or the body timeout fires. False when the caller was gone
   * already (nothing is sent).
   */
  respondStalled(): boolean {
    this.#finish();
    if (this.callerGone) {
      this.#unlisten();
      this.attempt.fail(this.#abortReason());
      return false;
    }
    this.stage = Stage.Stalled;
    this.listen(); // the attempt stays undici's signal while the body is open: meshkit keeps its deadline on it
    const body = new SimBody(undefined, true, this);
    this.#body = body;
    const bodyMs = this.timeouts.bodyMs;
    if (bodyMs !== Infinity) {
      this.#bodyTimer = this.host.at(this.host.now() + bodyMs, () => {
        this.#bodyTimer = undefined;
        this.failBody(bodyStalled(this.attempt, bodyMs));
      });
    }
    this.attempt.deliver(simResponse(200, EMPTY_RECORD, body));
    return true;
  }

  /** Fails the request before its headers (a reset), or its stalled body after them: an upstream failure. */
  failWith(error: Error): void {
    if (this.stage === Stage.Stalled) {
      this.failBody(error);
      return;
    }
    this.#finish();
    this.#unlisten();
    this.attempt.fail(error);
  }

  /** The open body fails upstream: the attempt hears of it first (its endpoint is charged), then the reader. */
  failBody(error: Error): void {
    const body = this.#body;
    if (body === undefined || body.destroyed || body.readableEnded) return;
    this.attempt.bodyFailed(error);
    body.destroy(error);
  }

  /** The backend dropped the request (it went down): the connection resets. */
  reset(): void {
    this.abandoned = true;
    this.failWith(connectionReset());
  }

  /** Stops the service-time event (the backend cancelled the request). */
  cancelService(): void {
    if (this.#serviceEnd !== undefined) this.host.cancel(this.#serviceEnd);
    this.#serviceEnd = undefined;
  }

  /** {@link SimBodyOwner}: the stalled body is done (destroyed by its reader, an abort or a failure). */
  bodyDone(): void {
    this.#body = undefined;
    if (this.#bodyTimer !== undefined) this.host.cancel(this.#bodyTimer);
    this.#bodyTimer = undefined;
    this.stage = Stage.Done;
    this.#unlisten();
    this.host.released(this);
  }

  #onAbort(): void {
    this.#listener = undefined;
    if (this.stage === Stage.Stalled) {
      // meshkit's abort (the deadline, the caller): the reader gets meshkit's error; nothing upstream is charged.
      const reason = this.#abortReason();
      this.#body?.destroy(reason instanceof Error ? reason : undefined);
      return;
    }
    if (this.stage !== Stage.Done) this.host.abandoned(this);
  }

  #abortReason(): unknown {
    const attempt = this.attempt;
    return speaksEmitter(attempt) ? attempt.reason : attempt.signal.reason;
  }

  #finish(): void {
    this.stage = Stage.Done;
    if (this.#headersTimer !== undefined) this.host.cancel(this.#headersTimer);
    this.#headersTimer = undefined;
  }

  #unlisten(): void {
    const listener = this.#listener;
    if (listener === undefined) return;
    this.#listener = undefined;
    const attempt = this.attempt;
    if (speaksEmitter(attempt)) attempt.removeListener('abort', listener);
    else attempt.signal.removeEventListener('abort', listener);
  }
}
