import type { CallContext } from '../core/call-context.js';
import { invalidConfig, isMeshkitError } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import type { Outcome } from '../core/outcome.js';
import type { Invoke, Policy } from '../core/policy.js';

/**
 * Why a fallback runs: the call rejected (`kind: 'error'`), or it resolved
 * with a result whose final outcome is not ok (`kind: 'response'`, for example
 * an HTTP 503 that `client.request()` resolves with). Modelled on Polly's
 * `Outcome<T>` (an exception or a result).
 */
export type FallbackFailure<T = unknown> =
  | {
    readonly kind: 'error';
    /** What the call rejected with. */
    readonly error: unknown;
    /** The final attempt's classification; undefined when no attempt ran (refused by a policy, fault injected). */
    readonly outcome: Outcome | undefined;
  }
  | {
    readonly kind: 'response';
    /**
     * The failed result (for HTTP, the undici response). The handler may read
     * its body; unless the handler returns this same object, the fallback
     * releases it (`transport.discard`, which dumps an undici body) once the
     * handler has settled.
     */
    readonly response: T;
    /** Its classification (`ok` is false). */
    readonly outcome: Outcome;
  };

/**
 * Which failures run the handler:
 * - `'failure'` (default): rejections, and resolved results whose outcome is not ok (HTTP 5xx);
 * - `'error'`: rejections only (a resolved 5xx is returned as it is);
 * - a predicate over the failure, for anything finer (for example only `ERR_CIRCUIT_OPEN`).
 *
 * Calls stopped by the caller's abort (or the client's close) never run it.
 */
export type FallbackWhen<T = unknown> = 'error' | 'failure' | ((failure: FallbackFailure<T>, call: CallContext) => boolean);

/**
 * The fallback's state for `client.snapshot()`: which failures it covers and how
 * often its handler ran. Plain JSON with stable keys (see docs/status-page.md).
 */
export type FallbackSnapshot = {
  readonly kind: 'fallback';
  /** `'error'`, `'failure'`, or `'custom'` for a predicate. */
  readonly when: 'error' | 'failure' | 'custom';
  /** Times the handler ran since creation (including runs that threw). */
  readonly substituted: number;
};

/** Produces the substitute result: a value or a promise of one. A throw rejects the call (see {@link fallback}). */
export type FallbackHandler<T = unknown> = (failure: FallbackFailure<T>, call: CallContext) => T | PromiseLike<T>;

/** Options of {@link fallback}. */
export interface FallbackOptions<T = unknown> {
  /** Which failures run the handler. Default `'failure'`. */
  readonly when?: FallbackWhen<T>;
}

const FALLBACK_KEYS: readonly (keyof FallbackOptions)[] = ['when'];

/**
 * Replaces a failed call's result with the handler's: a cached value, a
 * default, a degraded answer (Polly's Fallback strategy, cockatiel's
 * `fallback`).
 *
 * - Triggers, by default (`when: 'failure'`), on a rejection and on a resolved
 *   result whose final outcome is not ok (`call.current.outcome.ok === false`,
 *   i.e. the HTTP 5xx that `client.request()` resolves with; 4xx and 429 are
 *   answers, not failures). A result produced by an inner policy (another
 *   fallback, an injected fault) is classified by the call's classifier.
 *   `when: 'error'` restricts it to rejections.
 * - Never triggers when the caller aborted the call (`ERR_ABORTED`) or the
 *   client is closing (`ERR_CLIENT_CLOSED`): nobody is waiting for a substitute.
 * - For a failed response, the handler receives it as `failure.response`;
 *   unless it returns that same object, the response is released (its undici
 *   body dumped) after the handler settles, so a handler may still read it.
 * - A handler that throws rejects the call with its own error; when that error
 *   is an `Error` without a `cause`, its `cause` is set to the original error
 *   (or, for a failed response, to the {@link FallbackFailure}).
 *
 * The handler's result must fit the call: for `client.request()` and
 * `client.fetch()` return an undici-shaped response (see `staticResponse`);
 * for `client.call(fn)` a value of `fn`'s type. A fresh value per call is
 * needed for responses (a body is read once), hence a function, not a value.
 *
 * Place it outermost (added first) so it also covers refusals by breakers and
 * limiters and an exhausted deadline; the success path costs one comparison.
 */
export function fallback<T = unknown>(handler: FallbackHandler<T>, options: FallbackOptions<T> = {}): Policy {
  if (typeof handler !== 'function') throw invalidConfig('fallback.handler', 'a function (failure, call) => value', handler);
  const when = (checkOptions(options, 'fallback', FALLBACK_KEYS)['when'] ?? 'failure') as FallbackWhen<T>;
  if (when !== 'error' && when !== 'failure' && typeof when !== 'function') {
    throw invalidConfig('fallback.when', "'error', 'failure' or a function (failure, call) => boolean", when);
  }
  const responses = when !== 'error';
  const predicate = typeof when === 'function' ? when : undefined;

  // Counted when the handler runs only: the success path pays nothing.
  let substituted = 0;

  async function substitute(failure: FallbackFailure<T>, call: CallContext): Promise<T> {
    substituted++;
    let result: T;
    try {
      result = await handler(failure, call);
    } catch (thrown) {
      if (failure.kind === 'response') call.discard(failure.response);
      const original = failure.kind === 'error' ? failure.error : failure;
      if (thrown instanceof Error && thrown !== original && !Object.hasOwn(thrown, 'cause')) {
        Object.defineProperty(thrown, 'cause', { value: original, writable: true, configurable: true, enumerable: false });
      }
      throw thrown;
    }
    if (failure.kind === 'response' && result !== failure.response) call.discard(failure.response);
    return result;
  }

  const whenName = typeof when === 'function' ? 'custom' : when;
  return Object.freeze({
    name: 'fallback',
    // Its own count of substitutions per client; the handler itself is shared (it is the caller's function).
    clone: (): Policy => fallback(handler, { when }),
    snapshot: (): FallbackSnapshot => ({ kind: 'fallback', when: whenName, substituted }),
    wrap<U>(next: Invoke<U>): Invoke<U> {
      return async (call: CallContext): Promise<U> => {
        let value: U;
        try {
          value = await next(call);
        } catch (error) {
          if (stoppedByCaller(call, error)) throw error;
          const failure: FallbackFailure<T> = { kind: 'error', error, outcome: call.current?.outcome };
          if (predicate !== undefined && !predicate(failure, call)) throw error;
          return (await substitute(failure, call)) as unknown as U;
        }
        if (!responses) return value;
        const current = call.current;
        const outcome = current !== undefined && current.response === value ? current.outcome : call.classify(value);
        if (outcome === undefined || outcome.ok || call.signal?.aborted === true) return value;
        const failure: FallbackFailure<T> = { kind: 'response', response: value as unknown as T, outcome };
        if (predicate !== undefined && !predicate(failure, call)) return value;
        return (await substitute(failure, call)) as unknown as U;
      };
    },
  });
}

/** The caller gave up (abort) or the client is closing: no fallback. */
function stoppedByCaller(call: CallContext, error: unknown): boolean {
  return call.stopped !== undefined
    || call.signal?.aborted === true
    || isMeshkitError(error, 'ERR_ABORTED')
    || isMeshkitError(error, 'ERR_CLIENT_CLOSED');
}
