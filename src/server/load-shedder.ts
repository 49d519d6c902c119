import type { ServerResponse } from 'node:http';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { parseDuration, type Duration } from '../core/duration.js';
import { checkOptions } from '../core/options.js';
import type { Limit, LimitAlgorithm } from '../policies/limits/limit.js';
import { ConcurrencyLimiter, type LimiterSignal, type SampleWindowOptions } from '../policies/limits/limiter.js';
import { vegas } from '../policies/limits/vegas.js';
import { writeOverloaded } from './responses.js';

/** Options of {@link loadShedder}. */
export interface LoadShedderOptions {
  /**
   * How the limit on requests in flight moves: `vegas()` (default), `gradient2()`,
   * `aimd()` or your own. Vegas is the default on the server side as in Netflix
   * concurrency-limits' server limiters: it starts from the lowest latency seen
   * and keeps only a few requests queued (3 to 6 below a limit of 100), so
   * admitted requests stay close to their unloaded latency. The algorithm's
   * `maxLimit` is a hard ceiling on requests in flight.
   */
  readonly algorithm?: LimitAlgorithm;
  /** Sample windows (see `ConcurrencyLimiter`), or `false` to feed every request. Default 100 ms to 1 s, 10 requests. */
  readonly window?: SampleWindowOptions | false;
  /**
   * `Retry-After` on a refusal, rounded up to whole seconds (HTTP's
   * delay-seconds), or `false` to send none. Default `'1s'`.
   */
  readonly retryAfter?: Duration | false;
  /**
   * How long a request whose caller hung up keeps its slot while its handler
   * has not ended the response: the handler is still using this server, so
   * its slot is held until it ends the response, the request's deadline
   * passes, or this long after the hang-up, whichever comes first (a handler
   * that stops without ending the response would otherwise hold it for
   * ever). Default `'10s'`.
   */
  readonly abandonedHold?: Duration;
  /** Time for RTT samples and the abandoned hold (tests pass a `VirtualClock`). Default the system clock. */
  readonly clock?: Clock;
}

const KNOWN = ['algorithm', 'window', 'retryAfter', 'abandonedHold', 'clock'];

/** Sample windows in a row that must show queueing before the limit binds again (a drop needs one). */
const QUEUEING_WINDOWS = 2;

/**
 * A load shedder's state as plain JSON with stable keys, for status pages and
 * metrics; a type alias so it is a `Record<string, unknown>`.
 */
export type LoadShedderSnapshot = {
  readonly kind: 'load-shedder';
  /** The limit algorithm's name (`vegas`, `gradient2`, `aimd`, or yours). */
  readonly algorithm: string;
  /** The limit the algorithm has learnt. */
  readonly limit: number;
  /** The hard ceiling on requests in flight (the algorithm's `maxLimit`). */
  readonly maxLimit: number;
  /** Requests admitted and not yet finished. */
  readonly inFlight: number;
  /** True until the algorithm has had its first sample window: until then no request is refused below `maxLimit`. */
  readonly warmingUp: boolean;
  /**
   * Up to this many requests are admitted past `limit`: twice as many as were
   * in flight at once in the last sample window without queueing, when that
   * was more than the limit; 0 when it was not, once two windows in a row
   * showed queueing, or after a drop.
   */
  readonly headroom: number;
  /** Requests admitted since creation. */
  readonly admitted: number;
  /** Requests refused with 503 since creation. */
  readonly refused: number;
  /** Requests that finished at or after their caller's deadline: not counted as samples (the caller, not this server, ran out of time). */
  readonly pastDeadline: number;
};

/**
 * Inbound load shedding: a limit on requests being handled at once, found
 * from their latency by the same `ConcurrencyLimiter` the client side's
 * `adaptiveConcurrency()` uses (Netflix concurrency-limits; Envoy's adaptive
 * concurrency filter). A request refused is answered at once with 503 and
 * `Retry-After`, before it queues for anything, so the requests admitted keep
 * their latency and callers (meshkit's retries among them) go elsewhere.
 *
 * When the limit binds: never past the algorithm's `maxLimit`; below it, a
 * request over the learnt limit is still admitted
 * - while the shedder warms up (until the algorithm has had its first sample
 *   window, by default at least 10 requests over at least 100 ms): the limit
 *   has not been learnt, so a fresh server takes a burst instead of refusing it;
 * - while sample windows show no queueing (the algorithm's own judgement,
 *   `Limit.queueing`: Vegas's estimated queue above `beta`, Gradient2's
 *   latency over `rttTolerance` times its long-term RTT, AIMD's over its
 *   `timeout`) with more requests in flight than the limit: up to twice as
 *   many as the last such window had in flight at once (the `headroom`, as
 *   TCP's slow start doubles its window, so a rising load is followed). One
 *   window with queueing may be a pause (GC, a busy CPU): the headroom goes
 *   once two in a row show it, or one has a drop.
 * So a healthy service is not shed while its limit climbs, and a queueing one
 * is held to its limit. A server held to its limit (a load that grew after
 * the warm-up) earns no headroom: only the limit's own growth lets it take
 * more, as before. An algorithm of your own without `queueing()` gets the
 * warm-up only.
 *
 * What a handled request tells the limit: a 2xx-4xx other than 429 is a
 * sample; a 503 or 504 is a drop (overload); a 429, other 5xx and requests
 * whose client went away say nothing. A 429 is the application's answer to
 * one caller (its quota), not this server's overload: counted as a drop, one
 * greedy caller would drive the limit down for every other. A request that
 * finishes at or after its caller's deadline (a 504 for a spent deadline
 * among them) says nothing either: the caller chose that deadline, so a
 * caller sending 1 ms deadlines cannot drive the limit down.
 *
 * A request keeps its slot until its handler ends the response, even if its
 * caller hangs up first (bounded by `abandonedHold`): otherwise callers that
 * send requests and disconnect at once would have handlers running past
 * `maxLimit`.
 *
 * Build one per server (or per route group) and share it; its only timers
 * are those of requests whose caller hung up before the handler ended.
 * Throws `ERR_INVALID_CONFIG` naming `shedding.<option>`.
 */
export class LoadShedder {
  readonly limiter: ConcurrencyLimiter;
  /** The `Retry-After` value sent on refusals, in seconds; undefined when none is sent. */
  readonly retryAfterSeconds: number | undefined;
  readonly #maxLimit: number;
  readonly #abandonedHoldMs: number;
  #admitted = 0;
  #refused = 0;
  #pastDeadline = 0;
  #warm = false;
  /** How many may be in flight past the limit (see {@link LoadShedderSnapshot.headroom}). */
  #headroom = 0;
  /** The most requests in flight at once seen by the samples of the open window. */
  #peak = 0;
  /** Sample windows in a row that showed queueing. */
  #queueingWindows = 0;

  constructor(options: LoadShedderOptions = {}, option = 'shedding') {
    checkOptions(options, option, KNOWN);
    // The limiter checks the algorithm, window and clock and names them.
    this.limiter = new ConcurrencyLimiter({
      algorithm: this.#observe(options.algorithm ?? vegas()),
      ...(options.window === undefined ? {} : { window: options.window }),
      clock: options.clock ?? systemClock,
    }, option);
    this.#maxLimit = this.limiter.algorithm.maxLimit;
    const retryAfter = options.retryAfter ?? '1s';
    this.retryAfterSeconds = retryAfter === false ? undefined : Math.ceil(parseDuration(retryAfter, `${option}.retryAfter`) / 1000);
    this.#abandonedHoldMs = parseDuration(options.abandonedHold ?? '10s', `${option}.abandonedHold`);
  }

  /** The current limit on requests in flight. */
  get limit(): number {
    return this.limiter.limit;
  }

  /** Requests admitted and not yet finished. */
  get inFlight(): number {
    return this.limiter.inFlight;
  }

  /** Requests admitted since creation. */
  get admitted(): number {
    return this.#admitted;
  }

  /** Requests refused since creation. */
  get refused(): number {
    return this.#refused;
  }

  /** True until the algorithm has had its first sample window (no refusals below `maxLimit` until then). */
  get warmingUp(): boolean {
    return !this.#warm;
  }

  /** The state and counters as plain JSON. Reads only. */
  snapshot(): LoadShedderSnapshot {
    return {
      kind: 'load-shedder',
      algorithm: this.limiter.algorithm.name,
      limit: this.limiter.limit,
      maxLimit: this.#maxLimit,
      inFlight: this.limiter.inFlight,
      warmingUp: !this.#warm,
      headroom: this.#headroom,
      admitted: this.#admitted,
      refused: this.#refused,
      pastDeadline: this.#pastDeadline,
    };
  }

  /**
   * Admits the request behind `res` or refuses it. Admitted: returns true and
   * releases its slot when the handler has ended the response and it
   * finished or its connection closed (a caller that hung up first: see
   * `abandonedHold`).
   * Refused: writes 503 with `Retry-After` and returns false; do not run the
   * handler. `deadline` is the request's absolute deadline on this shedder's
   * `clock` (`Infinity` for none; give the inbound options the same clock): a
   * request that finishes at or after it is no sample.
   */
  admit(res: ServerResponse, deadline: number): boolean {
    if (this.tryAdmit(res, deadline)) return true;
    writeOverloaded(res, this.retryAfterSeconds, this.limiter.limit);
    return false;
  }

  /**
   * {@link admit} without the answer: on false, refuse the request yourself
   * (a framework's reply) with 503 and {@link retryAfterSeconds}.
   */
  tryAdmit(res: ServerResponse, deadline: number): boolean {
    const limiter = this.limiter;
    let inFlight = limiter.tryAcquire();
    if (inFlight === 0) {
      if (!this.#pastLimit(limiter.inFlight + 1)) {
        this.#refused++;
        return false;
      }
      inFlight = limiter.acquire();
    }
    this.#admitted++;
    const startedAt = limiter.clock.now();
    let released = false;
    const release = (signal: LimiterSignal): void => {
      if (released) return;
      released = true;
      res.removeListener('finish', onFinish);
      res.removeListener('close', onClose);
      if (signal !== 'ignore') {
        // The concurrency this sample saw, for the headroom its window may grant.
        const peak = inFlight > limiter.inFlight ? inFlight : limiter.inFlight;
        if (peak > this.#peak) this.#peak = peak;
      }
      limiter.release(startedAt, inFlight, signal);
    };
    const onFinish = (): void => release(this.#signalOf(res.statusCode, deadline));
    // 'close' without 'finish': the client went away (or the socket died) mid-answer.
    const onClose = (): void => {
      if (res.writableEnded) release(res.writableFinished ? this.#signalOf(res.statusCode, deadline) : 'ignore');
      else this.#holdAbandoned(res, release);
    };
    res.once('finish', onFinish);
    res.once('close', onClose);
    return true;
  }

  /**
   * The caller hung up before the handler ended the response: the handler
   * still runs, so the slot stays held until it ends the response (Node
   * emits `prefinish` from `end()` on a closed response too) or
   * `abandonedHold` runs out. Not bounded by the request's deadline: the
   * caller chose that, and a caller sending 5 ms deadlines and hanging up
   * would otherwise free its slot at once while its handler ran on, past
   * `maxLimit`. Says nothing to the limit.
   */
  #holdAbandoned(res: ServerResponse, release: (signal: LimiterSignal) => void): void {
    const clock = this.limiter.clock;
    const hold = this.#abandonedHoldMs;
    if (!(hold > 0)) {
      release('ignore');
      return;
    }
    let timer: TimerHandle;
    const done = (): void => {
      clock.clearTimeout(timer);
      res.removeListener('prefinish', done);
      release('ignore');
    };
    res.once('prefinish', done);
    timer = clock.setTimeout(done, hold);
  }

  /** Whether a request over the learnt limit, making `count` in flight, is admitted all the same. */
  #pastLimit(count: number): boolean {
    if (count > this.#maxLimit) return false;
    return !this.#warm || count <= this.#headroom;
  }

  /** What a finished request says about this server's capacity. */
  #signalOf(status: number, deadline: number): LimiterSignal {
    if (deadline !== Infinity && this.limiter.clock.now() >= deadline) {
      this.#pastDeadline++;
      return 'ignore';
    }
    // Not 429: that is the application's answer to one caller (a quota), not this server's overload.
    if (status === 503 || status === 504) return 'dropped';
    if (status === 429) return 'ignore';
    return status < 500 ? 'success' : 'ignore';
  }

  /**
   * The algorithm with each window's verdict recorded: the first ends the
   * warm-up; one without queueing or drops, that had more requests in
   * flight at once than the limit, grants twice as many; queueing in two in
   * a row (or a drop in one) takes the headroom away.
   */
  #observe(algorithm: LimitAlgorithm): LimitAlgorithm {
    if (algorithm === null || typeof algorithm !== 'object' || typeof algorithm.create !== 'function') return algorithm;
    const onWindow = (limit: Limit, rtt: number, dropped: boolean): void => {
      this.#warm = true;
      if (dropped) {
        // The server said it is overloaded (503, 504 in time): that is evidence at once.
        this.#queueingWindows = QUEUEING_WINDOWS;
        this.#headroom = 0;
      } else if (limit.queueing?.(rtt) ?? true) {
        // One slow window can be a pause (GC, a busy CPU); the headroom goes only when it lasts.
        if (++this.#queueingWindows >= QUEUEING_WINDOWS) this.#headroom = 0;
      } else {
        this.#queueingWindows = 0;
        // Only concurrency past the limit, seen without queueing, earns headroom; twice as much, as TCP's slow
        // start doubles its window, so a rising load is followed. Held to its limit, a server never earns any.
        this.#headroom = this.#peak > limit.limit ? 2 * this.#peak : 0;
      }
      this.#peak = 0;
    };
    const create = (clock: Clock): Limit => {
      const inner = algorithm.create(clock);
      return {
        get limit() {
          return inner.limit;
        },
        update(rtt: number, inFlight: number, dropped: boolean): number {
          onWindow(inner, rtt, dropped);
          return inner.update(rtt, inFlight, dropped);
        },
      };
    };
    // Everything else (name, limits, the algorithm's own settings) is read through to the original.
    return Object.freeze(Object.create(algorithm, { create: { value: create, enumerable: true } }) as LimitAlgorithm);
  }
}

/** Builds a {@link LoadShedder}; see its documentation for defaults. */
export function loadShedder(options?: LoadShedderOptions): LoadShedder {
  return new LoadShedder(options);
}
