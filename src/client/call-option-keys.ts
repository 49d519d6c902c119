import { invalidArgument, type MeshkitError } from '../core/errors.js';
import { nearestKey } from '../core/options.js';
import type { CallOptions } from './request-options.js';

/** The keys of `CallOptions`, shared by every kind of call. */
const CALL_KEYS: readonly string[] = ['signal', 'idempotent', 'timeout', 'key', 'subset'];
const REQUEST_KEYS: readonly string[] = [...CALL_KEYS, 'path', 'method', 'headers', 'body', 'query', 'json'];
const GOVERNED_KEYS: readonly string[] = [...CALL_KEYS, 'classify', 'classifyError', 'discard', 'replayable'];

/**
 * The first unknown key of a `request()` options object, or undefined. A
 * typo here (`timout: '100ms'`) would silently drop a bound, so it is an
 * error. A `switch` over a `for...in` costs about 15 ns for a small literal;
 * a Set lookup or `Object.keys` costs twice that.
 */
export function unknownRequestKey(options: object): string | undefined {
  for (const key in options) {
    switch (key) {
      case 'path': case 'method': case 'headers': case 'body': case 'query': case 'json':
      case 'signal': case 'idempotent': case 'timeout': case 'key': case 'subset':
        continue;
      default:
        return key;
    }
  }
  return undefined;
}

/** The first unknown key of a `call()` options object, or undefined. */
export function unknownCallKey(options: object): string | undefined {
  for (const key in options) {
    switch (key) {
      case 'classify': case 'classifyError': case 'discard': case 'replayable':
      case 'signal': case 'idempotent': case 'timeout': case 'key': case 'subset':
        continue;
      default:
        return key;
    }
  }
  return undefined;
}

/** The `ERR_INVALID_ARGUMENT` for an unknown per-call option, with the nearest known key. */
export function unknownOptionError(kind: 'request' | 'call', key: string, value: unknown): Error {
  const known = kind === 'request' ? REQUEST_KEYS : GOVERNED_KEYS;
  const near = nearestKey(key, known);
  const hint = near === undefined ? `one of ${known.join(', ')}` : `one of ${known.join(', ')} (did you mean \`${near}\`?)`;
  return invalidArgument(`options.${key}`, `a known option: ${hint}`, value);
}

/**
 * True for an `AbortSignal`, or one of another realm (a `vm` context): the
 * executor only reads `aborted` and `reason` and adds one `'abort'` listener.
 */
export function isAbortSignal(value: unknown): value is AbortSignal {
  if (value instanceof AbortSignal) return true;
  if (typeof value !== 'object' || value === null) return false;
  try {
    const signal = value as AbortSignal;
    return typeof signal.aborted === 'boolean' && typeof signal.addEventListener === 'function' && typeof signal.removeEventListener === 'function';
  } catch {
    return false; // a getter that throws (a revoked Proxy): not a signal, and no synchronous throw from call()
  }
}

/**
 * The `ERR_INVALID_ARGUMENT` for the first option every call kind shares
 * (`signal`, `idempotent`, `key`, `subset`) whose value is of the wrong type,
 * or undefined when all are fine. `hasSubsets` says whether the client's
 * balancer reads a call's subset (`BalancerFactory.readsSubset`): without it
 * every `subset` is unknown.
 * Property reads and `typeof` checks only: nothing is allocated for good options.
 */
export function invalidCallOption(options: CallOptions, hasSubsets: boolean): MeshkitError | undefined {
  const { signal, idempotent, key, subset } = options;
  // A signal that is not one would throw from the executor's watch, synchronously, with the call half set up.
  if (signal !== undefined && !isAbortSignal(signal)) return invalidArgument('options.signal', 'an AbortSignal', signal);
  // Truthiness would turn `'false'` into a retried POST.
  if (idempotent !== undefined && typeof idempotent !== 'boolean') return invalidArgument('options.idempotent', 'true or false', idempotent);
  // Hash balancers read a string: a number would hash like '' (every key on one endpoint).
  if (key !== undefined && typeof key !== 'string') return invalidArgument('options.key', 'a string (a routing key)', key);
  if (subset !== undefined) {
    if (typeof subset !== 'string') return invalidArgument('options.subset', 'a subset name (a string)', subset);
    // A balancer without subsets would ignore the name and send anywhere.
    if (!hasSubsets) return invalidArgument('options.subset', 'no subset (the client has no .subsets(), and its balancer reads none)', subset);
  }
  return undefined;
}
