import { AbortWatch } from '../core/abort-watch.js';
import type { AdmissionGate } from '../core/admission.js';
import type { CallContext } from '../core/call-context.js';
import { LinkedQueue } from '../core/linked-queue.js';
import { systemClock, type Clock } from '../core/clock.js';
import { parseDurationOrInfinity, type Duration } from '../core/duration.js';
import { invalidConfig, MeshkitError } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import type { Invoke, Policy } from '../core/policy.js';
import { TimerEntry, TimerQueue } from '../core/timer-queue.js';

/** Options of {@link bulkhead}. */
export interface BulkheadOptions {
  /** Calls allowed in flight at once (an integer >= 1). Required. */
  readonly maxConcurrent: number;
  /**
   * Calls allowed to wait for a slot, in FIFO order (an integer >= 0).
   * Default 0: a call that finds every slot taken is rejected at once.
   */
  readonly maxQueue?: number;
  /**
   * How long a queued call waits for a slot before it is rejected
   * (`ERR_LIMIT_EXCEEDED`, `details.limit === 'queueTimeout'`). The call's own
   * deadline bounds the wait too (then it rejects with `ERR_DEADLINE_EXCEEDED`,
   * blamed on the caller when the deadline is the caller's, else `'local'`:
   * never on the upstream, so no breaker counts it), and its signal aborts it
   * (`ERR_ABORTED`). `Infinity` (or `'Infinity'`)
   * leaves only the deadline and the signal. At most 2^31 - 1 ms (Node's timer
   * limit) otherwise. Default `'1s'`. Ignored when `maxQueue` is 0.
   */
  readonly queueTimeout?: Duration;
  /**
   * Time source for queue timeouts; must be the client's clock, since calls'
   * deadlines are read on it. Default the system clock (as the client's).
   */
  readonly clock?: Clock;
}

/** Resolved bulkhead settings. */
export interface BulkheadSettings {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  /** Milliseconds; `Infinity` when only the deadline bounds the wait. */
  readonly queueTimeoutMs: number;
}

/** Defaults of {@link bulkhead} (`maxConcurrent` has none). */
export const DEFAULT_BULKHEAD = Object.freeze({ maxQueue: 0, queueTimeoutMs: 1000 });

/** Which limit refused a call, as `error.details.limit`. */
export type BulkheadLimit = 'maxConcurrent' | 'maxQueue' | 'queueTimeout';

/**
 * A bulkhead's state for `client.snapshot()` and status pages. Plain JSON with
 * stable keys (see docs/status-page.md); a type alias so it is a `Record<string, unknown>`.
 */
export type BulkheadSnapshot = {
  readonly kind: 'bulkhead';
  /** Calls holding a slot now. */
  readonly active: number;
  /** Calls waiting for a slot now. */
  readonly queued: number;
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  /** Longest wait in the queue, ms; `null` when only the deadline bounds it (`Infinity` is not JSON). */
  readonly queueTimeoutMs: number | null;
  /** Calls refused with `ERR_LIMIT_EXCEEDED` since creation (full, queue full, or waited too long). */
  readonly rejected: number;
};

/** A bulkhead policy: a {@link Policy} with its live state and a `close()`. */
export interface BulkheadPolicy extends Policy {
  readonly settings: BulkheadSettings;
  /** Calls holding a slot now. */
  readonly active: number;
  /** Calls waiting for a slot now. */
  readonly queued: number;
  /** The live state and limits as plain JSON, for `client.snapshot()`. Reads only. */
  snapshot(): BulkheadSnapshot;
  /**
   * Rejects every queued call with `ERR_CLIENT_CLOSED` and clears the queue's
   * timer; afterwards calls that would have to queue are rejected the same way
   * (calls that find a free slot still pass through, to be refused by the closed
   * client). Idempotent. The client calls it from `close()`.
   */
  close(): void;
  /** A new, empty bulkhead with the same settings and clock (each built client gets one; see `Policy.clone`). */
  clone(): BulkheadPolicy;
}

const BULKHEAD_KEYS: readonly (keyof BulkheadOptions)[] = ['maxConcurrent', 'maxQueue', 'queueTimeout', 'clock'];

/** Validates {@link BulkheadOptions}; errors name `bulkhead.<option>` (unknown keys included). */
export function resolveBulkhead(options: BulkheadOptions): BulkheadSettings {
  checkOptions(options, 'bulkhead', BULKHEAD_KEYS);
  const { maxConcurrent, maxQueue = DEFAULT_BULKHEAD.maxQueue, queueTimeout = DEFAULT_BULKHEAD.queueTimeoutMs } = options;
  if (!Number.isSafeInteger(maxConcurrent) || maxConcurrent < 1) {
    throw invalidConfig('bulkhead.maxConcurrent', 'an integer >= 1', maxConcurrent);
  }
  if (!Number.isSafeInteger(maxQueue) || maxQueue < 0) throw invalidConfig('bulkhead.maxQueue', 'an integer >= 0', maxQueue);
  const queueTimeoutMs = parseDurationOrInfinity(queueTimeout, 'bulkhead.queueTimeout');
  if (queueTimeoutMs <= 0) throw invalidConfig('bulkhead.queueTimeout', 'a duration > 0, or Infinity', queueTimeout);
  if (options.clock !== undefined) {
    const clock = options.clock as unknown as Record<string, unknown>;
    if (clock === null || typeof clock !== 'object' || !['now', 'setTimeout', 'clearTimeout'].every((m) => typeof clock[m] === 'function')) {
      throw invalidConfig('bulkhead.clock', 'a clock with now, setTimeout and clearTimeout', options.clock);
    }
  }
  return Object.freeze({ maxConcurrent, maxQueue, queueTimeoutMs });
}

/**
 * A concurrency limit with a bounded FIFO queue (the bulkhead of Polly and
 * cockatiel; Envoy's `max_requests` / `max_pending_requests` circuit-breaker
 * thresholds play the same role). At most `maxConcurrent` calls run at once;
 * up to `maxQueue` more wait in arrival order for a slot, each for at most
 * `queueTimeout`, its deadline, or until its signal aborts. Every other call
 * is rejected at once with `ERR_LIMIT_EXCEEDED`, whose `details` say which
 * limit refused it: `{ reason: 'bulkhead', limit: 'maxConcurrent' | 'maxQueue'
 * | 'queueTimeout', maxConcurrent, maxQueue, service }`.
 *
 * Defaults: `maxQueue` 0 (no queue, Polly's and cockatiel's default too),
 * `queueTimeout` 1 s. A slot is held for the whole call, retries and backoff
 * included, and a freed slot passes straight to the head of the queue.
 *
 * Cost: a call that finds a free slot costs a counter increment and decrement
 * and allocates nothing but the promise of `then`. Only queued calls allocate
 * (a waiter, a promise, an abort listener when the call has a signal); their
 * timeouts share one {@link TimerQueue} (one unref'd clock timer, disarmed when
 * the queue empties), so no timer exists while nothing waits.
 *
 * Place it after the rate limiter and adaptive throttling and before the
 * circuit breaker (see docs/policies/bulkhead.md). One instance is one set of
 * slots: a builder gives every client it builds its own (`clone()`); to share
 * one limit between clients on purpose, pass `.policy(() => shared)`.
 */
export function bulkhead(options: BulkheadOptions): BulkheadPolicy {
  return new Bulkhead(resolveBulkhead(options), options.clock ?? systemClock);
}

/** A call waiting for a slot; also its own timeout entry. */
class Waiter extends TimerEntry {
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;
  /** True when the call's deadline, not the queue timeout, is what the timer guards. */
  byDeadline = false;

  constructor(
    readonly owner: Bulkhead,
    readonly call: CallContext,
    readonly invoke: Invoke<unknown>,
    readonly resolve: (value: Promise<unknown>) => void,
    readonly reject: (error: unknown) => void,
  ) {
    super();
  }

  onTimeout(): void {
    this.owner.expire(this);
  }
}

class Bulkhead implements BulkheadPolicy {
  readonly name = 'bulkhead';
  readonly settings: BulkheadSettings;
  readonly #clock: Clock;
  #timers: TimerQueue | undefined = undefined;
  #active = 0;
  readonly #queue = new LinkedQueue<Waiter>();
  /** One listener per caller signal, however many queued calls share it (no MaxListenersExceededWarning). */
  readonly #aborts = new AbortWatch<Waiter>((waiter, reason) => {
    if (this.#remove(waiter)) waiter.reject(abortedError(waiter.call, reason));
  });
  #closed = false;
  #rejected = 0;
  // Shared settle handlers: a call holding a slot allocates no closure.
  readonly #releaseValue = (value: unknown): unknown => {
    this.#release();
    return value;
  };
  readonly #releaseError = (error: unknown): never => {
    this.#release();
    throw error;
  };

  constructor(settings: BulkheadSettings, clock: Clock) {
    this.settings = settings;
    this.#clock = clock;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queue.size;
  }

  snapshot(): BulkheadSnapshot {
    const { maxConcurrent, maxQueue, queueTimeoutMs } = this.settings;
    return {
      kind: 'bulkhead',
      active: this.#active,
      queued: this.#queue.size,
      maxConcurrent,
      maxQueue,
      queueTimeoutMs: queueTimeoutMs === Infinity ? null : queueTimeoutMs,
      rejected: this.#rejected,
    };
  }

  wrap<T>(next: Invoke<T>): Invoke<T> {
    return (call) => {
      if (this.#active < this.settings.maxConcurrent && this.#queue.head === undefined) {
        this.#active++;
        return this.#run(next as Invoke<unknown>, call) as Promise<T>;
      }
      return this.#enqueue(next as Invoke<unknown>, call) as Promise<T>;
    };
  }

  /**
   * Without a queue (`maxQueue` 0, the default) a call takes a free slot or
   * is refused at once, so the bulkhead can run as the client's admission
   * gate. With a queue it must `wrap`.
   */
  admission(): AdmissionGate | undefined {
    return this.settings.maxQueue === 0 ? this.#gate : undefined;
  }

  readonly #gate: AdmissionGate = {
    admit: (call) => {
      if (this.#active < this.settings.maxConcurrent) {
        this.#active++;
        return undefined;
      }
      if (this.#closed) return closedError(call);
      this.#rejected++;
      return limitError(call, 'maxConcurrent', this.settings);
    },
    release: () => this.#release(),
  };

  clone(): BulkheadPolicy {
    return new Bulkhead(this.settings, this.#clock);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#queue.head !== undefined) {
      const waiter = this.#queue.head;
      this.#remove(waiter);
      waiter.reject(closedError(waiter.call));
    }
  }

  /** Runs a call that holds a slot; the slot is released when it settles. */
  #run(next: Invoke<unknown>, call: CallContext): Promise<unknown> {
    let promise: Promise<unknown>;
    try {
      promise = next(call);
    } catch (error) {
      this.#release();
      return Promise.reject(error);
    }
    return promise.then(this.#releaseValue, this.#releaseError);
  }

  /** Hands the freed slot to the head of the queue, or gives it back. */
  #release(): void {
    const waiter = this.#queue.head;
    if (waiter === undefined) {
      this.#active--;
      return;
    }
    this.#remove(waiter);
    waiter.resolve(this.#run(waiter.invoke, waiter.call));
  }

  #enqueue(next: Invoke<unknown>, call: CallContext): Promise<unknown> {
    const { maxQueue, queueTimeoutMs } = this.settings;
    if (this.#closed) return Promise.reject(closedError(call));
    if (this.#queue.size >= maxQueue) {
      this.#rejected++;
      return Promise.reject(limitError(call, maxQueue === 0 ? 'maxConcurrent' : 'maxQueue', this.settings));
    }
    const signal = call.signal;
    if (signal?.aborted === true) return Promise.reject(abortedError(call, signal.reason));
    const now = this.#clock.now();
    const remaining = call.deadline - now;
    if (remaining <= 0) return Promise.reject(deadlineError(call));
    return new Promise<unknown>((resolve, reject) => {
      const waiter = new Waiter(this, call, next, resolve, reject);
      this.#queue.push(waiter);
      const wait = Math.min(queueTimeoutMs, remaining);
      if (wait !== Infinity) {
        waiter.byDeadline = remaining < queueTimeoutMs;
        (this.#timers ??= new TimerQueue(this.#clock)).schedule(waiter, wait, now);
      }
      if (signal !== undefined) this.#aborts.watch(signal, waiter);
    });
  }

  /** @internal The waiter's timer fired. */
  expire(waiter: Waiter): void {
    if (!this.#remove(waiter)) return;
    if (!waiter.byDeadline) this.#rejected++;
    waiter.reject(waiter.byDeadline ? deadlineError(waiter.call) : limitError(waiter.call, 'queueTimeout', this.settings));
  }

  /** Unlinks a waiter, its timer and its abort listener; false when it already left the queue. */
  #remove(waiter: Waiter): boolean {
    if (!this.#queue.remove(waiter)) return false;
    const timers = this.#timers;
    if (timers !== undefined) {
      timers.cancel(waiter);
      // Nothing waits: disarm the shared timer too, so nothing outlives the queue.
      if (timers.size === 0) timers.clear();
    }
    if (waiter.call.signal !== undefined) this.#aborts.unwatch(waiter.call.signal, waiter);
    return true;
  }
}

function limitError(call: CallContext, limit: BulkheadLimit, settings: BulkheadSettings): MeshkitError {
  const { maxConcurrent, maxQueue, queueTimeoutMs } = settings;
  const why = limit === 'queueTimeout'
    ? `waited ${queueTimeoutMs} ms for one of ${maxConcurrent} slots`
    : limit === 'maxQueue'
      ? `all ${maxConcurrent} slots and ${maxQueue} queue places are taken`
      : `all ${maxConcurrent} slots are taken`;
  return new MeshkitError('ERR_LIMIT_EXCEEDED', `${call.service}: bulkhead full (${why})`, {
    service: call.service, reason: 'bulkhead', limit, maxConcurrent, maxQueue,
  });
}

function abortedError(call: CallContext, reason: unknown): MeshkitError {
  return new MeshkitError('ERR_ABORTED', `${call.service}: the call was aborted`, { service: call.service }, { cause: reason });
}

/**
 * The deadline ran out while the call waited for a slot. Nothing was sent, so
 * it is never the upstream's doing (an outer breaker must not count it): the
 * caller's when the deadline is the caller's, else local (the queue was full
 * for the whole of the client's own bound).
 */
function deadlineError(call: CallContext): MeshkitError {
  return new MeshkitError('ERR_DEADLINE_EXCEEDED', `${call.service}: deadline exceeded while queued in the bulkhead`, {
    service: call.service, attempts: call.attempts,
  }, { blame: call.deadlineIsCallers ? 'caller' : 'local' });
}

function closedError(call: CallContext): MeshkitError {
  return new MeshkitError('ERR_CLIENT_CLOSED', `${call.service}: the client is closed`, { service: call.service });
}
