import type { CallContext } from '../core/call-context.js';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { parseDuration, type Duration } from '../core/duration.js';
import { invalidConfig, MeshkitError, type MeshkitErrorCode } from '../core/errors.js';
import { checkOptions, readFunction, readNumber } from '../core/options.js';
import type { Invoke, Policy } from '../core/policy.js';
import { staticResponse } from './fallback-response.js';

/**
 * The code of the error an injected abort rejects with.
 * TODO(lead): add `'ERR_FAULT_INJECTED'` to `MeshkitErrorCode` in src/core/errors.ts; until then it is cast.
 */
export const FAULT_INJECTED: MeshkitErrorCode = 'ERR_FAULT_INJECTED';

/** An injected delay (Envoy's `fault.delay`: `fixed_delay` + `percentage`). */
export interface FaultDelayOptions {
  /** Share of calls delayed, 0-100. Required. */
  readonly percent: number;
  /** How long each delayed call waits before it proceeds. Required. */
  readonly duration: Duration;
}

/**
 * An injected abort (Envoy's `fault.abort`: `http_status` + `percentage`).
 * Give at most one of `status` and `error`; with neither, the call rejects with
 * `ERR_FAULT_INJECTED`.
 */
export interface FaultAbortOptions {
  /** Share of calls aborted, 0-100. Required. */
  readonly percent: number;
  /**
   * HTTP calls (`request`, `fetch`) resolve with a synthetic response of this
   * status (200-599) instead of being sent; `client.call(fn)` calls reject with
   * `ERR_FAULT_INJECTED` carrying `details.status`. Default: none.
   */
  readonly status?: number;
  /** Reject with this error (or the error this function returns for the call) instead of `ERR_FAULT_INJECTED`. Default: none. */
  readonly error?: Error | ((call: CallContext) => unknown);
}

/** Options of {@link faultInjection}. Nothing is injected unless `delay` or `abort` is given. */
export interface FaultInjectionOptions {
  /** Delay a share of calls. Default: no delay. */
  readonly delay?: FaultDelayOptions;
  /** Abort a share of calls without sending them. Default: no abort. */
  readonly abort?: FaultAbortOptions;
  /**
   * Per-call switch, read before anything is drawn: return false to leave the
   * call alone (Polly's `EnabledGenerator`; use it to scope chaos to a header,
   * a route or a tenant). Default: every call is eligible.
   */
  readonly enabled?: (call: CallContext) => boolean;
  /** Time, timers and randomness. Default `systemClock`. */
  readonly clock?: Clock;
}

/**
 * Fault injection's state for `client.snapshot()` and status pages (a status page
 * should make it obvious that faults are being injected). Plain JSON with stable
 * keys (see docs/status-page.md); a type alias so it is a `Record<string, unknown>`.
 */
export type FaultInjectionSnapshot = {
  readonly kind: 'fault-injection';
  /** False once `close()` ran: nothing is injected any more. */
  readonly active: boolean;
  readonly delayPercent: number;
  readonly delayMs: number;
  readonly abortPercent: number;
  /** The status an injected abort answers with; `null` when it rejects with an error instead. */
  readonly abortStatus: number | null;
  /** Injected delays in progress now. */
  readonly pendingDelays: number;
  /** Delays and aborts injected since creation. */
  readonly delays: number;
  readonly aborts: number;
};

/** The fault injection policy: a {@link Policy} with a `close()` that ends pending delays. */
export interface FaultInjectionPolicy extends Policy {
  /** Settings and counts as plain JSON, for `client.snapshot()`. Reads only. */
  snapshot(): FaultInjectionSnapshot;
  /**
   * Ends every pending injected delay (its call rejects with
   * `ERR_CLIENT_CLOSED`) and injects nothing from then on. The client calls
   * it from `close()`.
   */
  close(): void;
  /** A new policy with the same settings, its own counts and nothing pending (each built client gets one; see `Policy.clone`). */
  clone(): FaultInjectionPolicy;
}

/** One injected delay in progress: a ref'd clock timer and, when the call has a signal, an abort listener. */
class InjectedDelay {
  readonly #clock: Clock;
  readonly #call: CallContext;
  readonly #pending: Set<InjectedDelay>;
  #timer: TimerHandle | undefined = undefined;
  #resolve: (() => void) | undefined = undefined;
  #reject: ((error: unknown) => void) | undefined = undefined;
  #onAbort: (() => void) | undefined = undefined;

  constructor(clock: Clock, call: CallContext, pending: Set<InjectedDelay>) {
    this.#clock = clock;
    this.#call = call;
    this.#pending = pending;
  }

  /** Waits `ms`; resolves when it elapsed, rejects when ended early (abort, close). */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#pending.add(this);
      const signal = this.#call.signal;
      if (signal !== undefined) {
        this.#onAbort = () => this.end(abortedError(this.#call, signal.reason));
        signal.addEventListener('abort', this.#onAbort, { once: true });
      }
      // Kept alive: this wait is all the pending call is doing (no socket holds the process yet).
      this.#timer = this.#clock.setTimeout(() => this.end(undefined), ms, true);
    });
  }

  /** Ends the wait: resolves when `error` is undefined, rejects with it otherwise. Idempotent. */
  end(error: unknown): void {
    const resolve = this.#resolve;
    const reject = this.#reject;
    if (resolve === undefined || reject === undefined) return;
    this.#resolve = this.#reject = undefined;
    this.#pending.delete(this);
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#onAbort !== undefined) this.#call.signal?.removeEventListener('abort', this.#onAbort);
    this.#onAbort = undefined;
    if (error === undefined) resolve();
    else reject(error);
  }
}

const FAULT_INJECTION_KEYS: readonly (keyof FaultInjectionOptions)[] = ['delay', 'abort', 'enabled', 'clock'];
const DELAY_KEYS: readonly (keyof FaultDelayOptions)[] = ['percent', 'duration'];
const ABORT_KEYS: readonly (keyof FaultAbortOptions)[] = ['percent', 'status', 'error'];

/**
 * Injects faults into a share of calls, for chaos testing and for rehearsing
 * how callers cope, modelled on Envoy's HTTP fault filter (`delay` with a fixed
 * delay and a percentage; `abort` with an HTTP status and a percentage) and
 * Polly's chaos strategies (latency and fault/outcome injection, an
 * enabled-generator per call). Off unless `delay` or `abort` is configured.
 *
 * For each eligible call (`enabled`), one random draw from the clock decides
 * the delay (`clock.random() * 100 < delay.percent`); after the delay, a second
 * draw decides the abort, as Envoy applies the delay before the abort.
 * Percentages of 0 and 100 draw nothing.
 *
 * - **Delay**: the call waits `delay.duration` on a ref'd clock timer, then
 *   proceeds. The wait honours the call: an abort of the caller's signal ends
 *   it at once with `ERR_ABORTED`; a deadline that falls inside it ends it at
 *   the deadline with `ERR_DEADLINE_EXCEEDED`; `close()` ends it with
 *   `ERR_CLIENT_CLOSED`. Nothing is left running once the call settles.
 * - **Abort**: the call is not sent. With `status`, HTTP calls resolve with a
 *   synthetic response of that status (body `fault injected`, header
 *   `x-meshkit-fault: abort`), which outer policies classify like a real one;
 *   with `error`, the call rejects with it; otherwise it rejects with
 *   `ERR_FAULT_INJECTED` (`details.fault: 'abort'`).
 *
 * The policy wraps the whole call, retries included: an injected fault is not
 * retried. Add it last (innermost) so that breakers, fallbacks and limiters
 * outside it see the injected faults as they would see real ones.
 */
export function faultInjection(options: FaultInjectionOptions = {}): FaultInjectionPolicy {
  const given = checkOptions(options, 'faultInjection', FAULT_INJECTION_KEYS);
  const clock = (given['clock'] ?? systemClock) as Clock;
  if (clock === null || typeof clock !== 'object' || typeof clock.setTimeout !== 'function' || typeof clock.random !== 'function') {
    throw invalidConfig('faultInjection.clock', 'a Clock', clock);
  }
  const enabled = readFunction<(call: CallContext) => boolean>(given['enabled'], 'faultInjection.enabled');

  let delayPercent = 0;
  let delayMs = 0;
  if (given['delay'] !== undefined) {
    const delay = checkOptions(given['delay'], 'faultInjection.delay', DELAY_KEYS);
    delayPercent = percentOption(delay['percent'], 'faultInjection.delay.percent');
    if (delay['duration'] === undefined) throw invalidConfig('faultInjection.delay.duration', 'a duration', delay['duration']);
    delayMs = parseDuration(delay['duration'], 'faultInjection.delay.duration');
  }

  let abortPercent = 0;
  let abortStatus: number | undefined;
  let abortError: FaultAbortOptions['error'];
  if (given['abort'] !== undefined) {
    const abort = checkOptions(given['abort'], 'faultInjection.abort', ABORT_KEYS);
    abortPercent = percentOption(abort['percent'], 'faultInjection.abort.percent');
    if (abort['status'] !== undefined) {
      abortStatus = readNumber(abort['status'], 'faultInjection.abort.status', 0, { min: 200, max: 599, integer: true });
    }
    const error = abort['error'];
    if (error !== undefined) {
      if (!(error instanceof Error) && typeof error !== 'function') {
        throw invalidConfig('faultInjection.abort.error', 'an Error or a function (call) => error', error);
      }
      if (abortStatus !== undefined) throw invalidConfig('faultInjection.abort', 'at most one of status and error', abort);
      abortError = error as FaultAbortOptions['error'];
    }
  }

  // The validated settings, to make clones from (the caller's object may have changed since).
  const settings: FaultInjectionOptions = {
    clock,
    ...(enabled === undefined ? {} : { enabled }),
    ...(given['delay'] === undefined ? {} : { delay: { percent: delayPercent, duration: delayMs } }),
    ...(given['abort'] === undefined ? {} : {
      abort: {
        percent: abortPercent,
        ...(abortStatus === undefined ? {} : { status: abortStatus }),
        ...(abortError === undefined ? {} : { error: abortError }),
      },
    }),
  };
  const pending = new Set<InjectedDelay>();
  let closed = false;
  // Counted where a fault is injected only: the pass-through path pays nothing.
  let delays = 0;
  let aborts = 0;
  const hit = (percent: number): boolean => percent >= 100 || (percent > 0 && clock.random() * 100 < percent);

  function injectAbort(call: CallContext): Promise<never> | Promise<unknown> {
    aborts++;
    const http = typeof call.request !== 'function';
    if (abortStatus !== undefined && http) {
      return Promise.resolve(staticResponse(abortStatus, 'fault injected', {
        headers: { 'content-type': 'text/plain; charset=utf-8', 'x-meshkit-fault': 'abort' },
      }));
    }
    if (abortError !== undefined) {
      let error: unknown;
      try {
        error = typeof abortError === 'function' ? abortError(call) : abortError;
      } catch (thrown) {
        error = thrown;
      }
      return Promise.reject(error);
    }
    const details = abortStatus === undefined ? { service: call.service, fault: 'abort' } : { service: call.service, fault: 'abort', status: abortStatus };
    return Promise.reject(new MeshkitError(FAULT_INJECTED, `${call.service}: fault injected (abort)`, details));
  }

  async function delayed<U>(call: CallContext, next: Invoke<U>): Promise<U> {
    if (call.signal?.aborted === true) throw abortedError(call, call.signal.reason);
    const remaining = call.deadline - clock.now();
    const pastDeadline = remaining <= delayMs;
    delays++;
    await new InjectedDelay(clock, call, pending).wait(pastDeadline ? Math.max(0, remaining) : delayMs);
    if (pastDeadline) {
      // As for a real slow upstream: a deadline the caller chose running out is the caller's doing, the client's own is the upstream's.
      throw new MeshkitError('ERR_DEADLINE_EXCEEDED', `${call.service}: deadline exceeded during an injected delay of ${delayMs} ms`, {
        service: call.service, fault: 'delay', delayMs,
      }, { blame: call.deadlineIsCallers ? 'caller' : 'upstream' });
    }
    if (!closed && hit(abortPercent)) return injectAbort(call) as Promise<U>;
    return next(call);
  }

  return Object.freeze({
    name: 'fault-injection',
    wrap<U>(next: Invoke<U>): Invoke<U> {
      return (call: CallContext): Promise<U> => {
        if (closed) return next(call);
        if (enabled !== undefined) {
          try {
            if (!enabled(call)) return next(call);
          } catch (error) {
            return Promise.reject(error);
          }
        }
        if (hit(delayPercent)) return delayed(call, next);
        if (hit(abortPercent)) return injectAbort(call) as Promise<U>;
        return next(call);
      };
    },
    snapshot(): FaultInjectionSnapshot {
      return {
        kind: 'fault-injection', active: !closed, delayPercent, delayMs, abortPercent, abortStatus: abortStatus ?? null,
        pendingDelays: pending.size, delays, aborts,
      };
    },
    clone(): FaultInjectionPolicy {
      return faultInjection(settings);
    },
    close(): void {
      closed = true;
      for (const delay of [...pending]) {
        delay.end(new MeshkitError('ERR_CLIENT_CLOSED', 'the client is closed (during an injected delay)', { fault: 'delay' }));
      }
    },
  });
}

function percentOption(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw invalidConfig(option, 'a percentage from 0 to 100', value);
  }
  return value;
}

function abortedError(call: CallContext, reason: unknown): MeshkitError {
  return new MeshkitError('ERR_ABORTED', `${call.service}: the call was aborted`, { service: call.service }, { cause: reason });
}
