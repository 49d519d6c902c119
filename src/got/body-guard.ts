import type { IncomingMessage } from 'node:http';
import type { Clock } from '../core/clock.js';
import { MeshkitError } from '../core/errors.js';
import { TimerEntry, TimerQueue } from '../core/timer-queue.js';

/**
 * Why meshkit cut one got request's response body short (undefined while it
 * has not). got reports a destroyed response as "the server aborted", so the
 * adapter's `beforeError` hook reads this to report the real reason.
 */
export interface BodyCut {
  reason: MeshkitError | undefined;
}

/** One response body being read: a timer entry (deadline and stall checks) and the caller's abort listener. */
class BodyGuard extends TimerEntry {
  readonly #owner: BodyGuards;
  readonly #response: IncomingMessage;
  readonly #deadline: number;
  readonly #signal: AbortSignal | undefined;
  readonly #cut: BodyCut;
  /** Socket bytes read at the last check, and when they last moved. */
  #bytes: number;
  #progressAt: number;
  readonly release = (): void => {
    this.#owner.timers.cancel(this);
    this.#signal?.removeEventListener('abort', this);
    this.#response.off('close', this.release);
  };

  constructor(owner: BodyGuards, response: IncomingMessage, deadline: number, signal: AbortSignal | undefined, cut: BodyCut, now: number) {
    super();
    this.#owner = owner;
    this.#response = response;
    this.#deadline = deadline;
    this.#signal = signal;
    this.#cut = cut;
    this.#bytes = response.socket?.bytesRead ?? 0;
    this.#progressAt = now;
  }

  /** The next check: the deadline, or when the body will have stalled for the per-try timeout. */
  schedule(now: number): void {
    const due = Math.min(this.#deadline, this.#progressAt + this.#owner.stallMs);
    this.#owner.timers.schedule(this, Math.max(0, due - now), now);
  }

  /** The caller's signal aborted (an `EventListenerObject`, so no closure per body). */
  handleEvent(): void {
    this.cut(this.#owner.aborted(this.#signal?.reason));
  }

  override onTimeout(): void {
    const now = this.#owner.clock.now();
    if (now >= this.#deadline) {
      this.cut(this.#owner.deadlineExceeded());
      return;
    }
    const bytes = this.#response.socket?.bytesRead ?? this.#bytes;
    // Bytes arrived, or some wait unread (the reader is the slow one, not the server): not a stall.
    if (bytes !== this.#bytes || this.#response.readableLength > 0) {
      this.#bytes = bytes;
      this.#progressAt = now;
    } else if (now - this.#progressAt >= this.#owner.stallMs) {
      this.cut(this.#owner.stalled());
      return;
    }
    this.schedule(now);
  }

  cut(reason: MeshkitError): void {
    this.release();
    this.#cut.reason ??= reason;
    this.#response.destroy(reason);
  }
}

/**
 * Bounds the response bodies a got instance reads after meshkit handed their
 * heads over: the call's deadline and the caller's signal still apply, and a
 * body that receives nothing for the per-try timeout (while its reader keeps
 * up) is a stall, noticed within twice that (bytes are checked, not
 * listened to, so a body read at full speed costs nothing). Each cuts the body short by destroying the response (which
 * releases its socket). One timer queue per adapter instance on the client's
 * clock; nothing is armed for a body that had fully arrived already, or for
 * a call with no deadline, no per-try timeout and no signal.
 */
export class BodyGuards {
  readonly clock: Clock;
  readonly timers: TimerQueue;
  /** The client's per-try timeout; `Infinity` when it has none. */
  readonly stallMs: number;
  readonly #service: string;
  /** Every body being read (guarded or not) and its request's cut record, so closing can say why it cut them. */
  readonly #open = new Map<IncomingMessage, BodyCut>();
  /** `idle()` callers, told once no body is being read. */
  #idleWaiters: (() => void)[] = [];

  constructor(service: string, clock: Clock, stallMs: number) {
    this.#service = service;
    this.clock = clock;
    this.timers = new TimerQueue(clock);
    this.stallMs = stallMs;
  }

  /** Starts guarding `response` until it closes; `deadline` is the call's, on the client's clock. */
  watch(response: IncomingMessage, deadline: number, signal: AbortSignal | undefined, cut: BodyCut): void {
    // A body that has fully arrived needs no network any more: reading it cannot hang.
    if (response.complete || response.destroyed) return;
    this.#open.set(response, cut);
    response.once('close', () => this.#forget(response));
    if (deadline === Infinity && this.stallMs === Infinity && signal === undefined) return;
    const now = this.clock.now();
    const guard = new BodyGuard(this, response, deadline, signal, cut, now);
    if (signal?.aborted === true) {
      guard.cut(this.aborted(signal.reason));
      return;
    }
    if (now >= deadline) {
      guard.cut(this.deadlineExceeded());
      return;
    }
    response.once('close', guard.release);
    signal?.addEventListener('abort', guard);
    if (deadline !== Infinity || this.stallMs !== Infinity) guard.schedule(now);
  }

  /**
   * The client closed: drops every pending check and cuts every body still
   * being read with `reason` (its socket is about to be destroyed with the
   * agents; the caller gets `reason`, not a bare `ECONNRESET`).
   */
  close(reason: MeshkitError): void {
    this.timers.clear();
    for (const [response, cut] of this.#open) {
      cut.reason ??= reason;
      response.destroy(reason);
    }
    this.#open.clear();
    this.#wake();
  }

  /** Resolves once no body is being read (at once when none is): `close()` lets them finish first, within its bound. */
  idle(): Promise<void> {
    if (this.#open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #forget(response: IncomingMessage): void {
    this.#open.delete(response);
    if (this.#open.size === 0) this.#wake();
  }

  #wake(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  deadlineExceeded(): MeshkitError {
    const service = this.#service;
    return new MeshkitError('ERR_DEADLINE_EXCEEDED', `${service}: deadline exceeded while reading the response body`, { service });
  }

  stalled(): MeshkitError {
    const service = this.#service;
    return new MeshkitError('ERR_TIMEOUT', `${service}: the response body received nothing for ${this.stallMs} ms (timeout.perTry)`, {
      service,
      timeoutMs: this.stallMs,
    });
  }

  aborted(reason: unknown): MeshkitError {
    const service = this.#service;
    return new MeshkitError('ERR_ABORTED', `${service}: the call was aborted`, { service }, { cause: reason });
  }
}
