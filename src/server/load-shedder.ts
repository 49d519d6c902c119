import type { ServerResponse } from 'node:http';
import { systemClock, type Clock } from '../core/clock.js';
import { parseDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import type { LimitAlgorithm } from '../policies/limits/limit.js';
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
   * admitted requests stay close to their unloaded latency.
   */
  readonly algorithm?: LimitAlgorithm;
  /** Sample windows (see `ConcurrencyLimiter`), or `false` to feed every request. Default 100 ms to 1 s, 10 requests. */
  readonly window?: SampleWindowOptions | false;
  /**
   * `Retry-After` on a refusal, rounded up to whole seconds (HTTP's
   * delay-seconds), or `false` to send none. Default `'1s'`.
   */
  readonly retryAfter?: Duration | false;
  /** Time for RTT samples (tests pass a `VirtualClock`). Default the system clock. */
  readonly clock?: Clock;
}

const KNOWN = ['algorithm', 'window', 'retryAfter', 'clock'];

/**
 * Inbound load shedding: a limit on requests being handled at once, found
 * from their latency by the same `ConcurrencyLimiter` the client side's
 * `adaptiveConcurrency()` uses (Netflix concurrency-limits; Envoy's adaptive
 * concurrency filter). A request over the limit is refused at once with 503 and
 * `Retry-After`, before it queues for anything, so the requests admitted keep
 * their latency and callers (meshkit's retries among them) go elsewhere.
 *
 * What a handled request tells the limit: a 2xx-4xx answered in time is a
 * sample; a 429, 503 or 504, or any answer after the request's deadline, is a
 * drop (overload); other 5xx and requests whose client went away say nothing.
 *
 * Build one per server (or per route group) and share it; it owns no timer.
 * Throws `ERR_INVALID_CONFIG` naming `shedding.<option>`.
 */
export class LoadShedder {
  readonly limiter: ConcurrencyLimiter;
  /** The `Retry-After` value sent on refusals, in seconds; undefined when none is sent. */
  readonly retryAfterSeconds: number | undefined;
  #admitted = 0;
  #refused = 0;

  constructor(options: LoadShedderOptions = {}, option = 'shedding') {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidConfig(option, 'an options object', options);
    for (const key of Object.keys(options)) {
      if (!KNOWN.includes(key)) throw invalidConfig(`${option}.${key}`, `one of ${KNOWN.join(', ')}`, (options as Record<string, unknown>)[key]);
    }
    this.limiter = new ConcurrencyLimiter({
      algorithm: options.algorithm ?? vegas(),
      ...(options.window === undefined ? {} : { window: options.window }),
      clock: options.clock ?? systemClock,
    }, option);
    const retryAfter = options.retryAfter ?? '1s';
    this.retryAfterSeconds = retryAfter === false ? undefined : Math.ceil(parseDuration(retryAfter, `${option}.retryAfter`) / 1000);
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

  /**
   * Admits the request behind `res` or refuses it. Admitted: returns true and
   * releases its slot when the response finishes or its connection closes.
   * Refused: writes 503 with `Retry-After` and returns false; do not run the
   * handler. `deadline` is the request's absolute `systemClock` deadline
   * (`Infinity` for none): an answer after it counts as a drop.
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
    const inFlight = limiter.tryAcquire();
    if (inFlight === 0) {
      this.#refused++;
      return false;
    }
    this.#admitted++;
    const startedAt = limiter.clock.now();
    let released = false;
    const release = (signal: LimiterSignal): void => {
      if (released) return;
      released = true;
      res.removeListener('finish', onFinish);
      res.removeListener('close', onClose);
      limiter.release(startedAt, inFlight, signal);
    };
    const onFinish = (): void => release(signalOf(res.statusCode, deadline));
    // 'close' without 'finish': the client went away (or the socket died) mid-answer.
    const onClose = (): void => release(res.writableFinished ? signalOf(res.statusCode, deadline) : 'ignore');
    res.once('finish', onFinish);
    res.once('close', onClose);
    return true;
  }
}

/** What a finished request says about this server's capacity. */
function signalOf(status: number, deadline: number): LimiterSignal {
  if (status === 429 || status === 503 || status === 504) return 'dropped';
  if (deadline !== Infinity && systemClock.now() > deadline) return 'dropped';
  return status < 500 ? 'success' : 'ignore';
}

/** Builds a {@link LoadShedder}; see its documentation for defaults. */
export function loadShedder(options?: LoadShedderOptions): LoadShedder {
  return new LoadShedder(options);
}
