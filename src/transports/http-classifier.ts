import type { Classifier } from '../core/call-context.js';
import { classifyError } from './error-classifier.js';
import type { HttpResponse } from './http-types.js';
import { statusOutcomeTable, type Outcome } from '../core/outcome.js';

/** Default statuses worth retrying elsewhere: the gateway and availability failures (as Envoy's `gateway-error` + 503). */
export const DEFAULT_RETRYABLE_STATUSES: readonly number[] = Object.freeze([502, 503, 504]);

/** Maps an HTTP status to its shared {@link Outcome}: 5xx fail the endpoint; listed statuses are retryable. */
export class HttpStatusClassifier {
  readonly #table: readonly Outcome[];
  readonly #fallback: Outcome;

  constructor(retryableStatuses: readonly number[] = DEFAULT_RETRYABLE_STATUSES) {
    this.#table = statusOutcomeTable(new Set(retryableStatuses));
    this.#fallback = this.#table[500] as Outcome;
  }

  classify(status: number): Outcome {
    return this.#table[status] ?? this.#fallback;
  }
}

/** The classifier of HTTP calls: status table for responses, error codes for failures. */
export function httpClassifier(retryableStatuses: readonly number[]): Classifier<HttpResponse> {
  const statuses = new HttpStatusClassifier(retryableStatuses);
  return Object.freeze({
    response: (response: HttpResponse): Outcome => statuses.classify(response.statusCode),
    error: classifyError,
  });
}
