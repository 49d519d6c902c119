import type { AttemptContext } from '../core/attempt.js';
import type { Classifier } from '../core/call-context.js';
import type { CallTransport } from '../core/call-transport.js';
import type { Endpoint } from '../core/endpoint.js';
import { Outcomes, type Outcome } from '../core/outcome.js';
import { classifyError } from './error-classifier.js';

/** A function governed by `client.call`: it performs one attempt against the endpoint it is given. */
export type GovernedFunction<T> = (endpoint: Endpoint, attempt: AttemptContext) => Promise<T> | T;

/** Sends an attempt by calling the user's function: the transport behind `client.call`. */
export const functionTransport: CallTransport<GovernedFunction<unknown>, unknown> = Object.freeze({
  send(endpoint: Endpoint, fn: GovernedFunction<unknown>, attempt: AttemptContext): Promise<unknown> {
    return Promise.resolve(fn(endpoint, attempt));
  },
  discard(): void {},
});

/**
 * {@link functionTransport} for a `call()` given a `discard`: every place the
 * attempt loop drops a value (a retried result, a hedge that lost, a late
 * answer, a fallback's replaced one) goes through it, so a `discard` that
 * throws cannot break the call; the value is being dropped anyway.
 */
export function functionTransportDiscarding(discard: (result: unknown) => void): CallTransport<GovernedFunction<unknown>, unknown> {
  return {
    send: functionTransport.send,
    discard(result: unknown): void {
      try {
        discard(result);
      } catch {
        // Ignored: see above.
      }
    },
  };
}

/** A returned value is a success; a thrown error is classified by its code (connect, reset, timeout, other). */
export const functionClassifier: Classifier = Object.freeze({
  response: (): Outcome => Outcomes.success,
  error: classifyError,
});
