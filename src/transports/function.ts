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

/** A returned value is a success; a thrown error is classified by its code (connect, reset, timeout, other). */
export const functionClassifier: Classifier = Object.freeze({
  response: (): Outcome => Outcomes.success,
  error: classifyError,
});
