/**
 * Why an attempt ended the way it did. Computed once per attempt by the
 * transport's classifier; every consumer (balancer, retries, breakers, budgets,
 * telemetry) reads this one value instead of re-deriving it.
 */
export type OutcomeReason =
  /** A response the service meant to give (2xx-4xx, except the statuses below). */
  | 'ok'
  /** A response whose status says the endpoint failed (5xx) or asks for a retry (for example 429). */
  | 'status'
  /** No connection could be made; the request never left, so any method may be retried. */
  | 'connect'
  /** The connection broke while the request was in flight. */
  | 'reset'
  /** The per-try timeout fired. */
  | 'timeout'
  /** The call's total deadline ran out during this attempt. */
  | 'deadline'
  /** The caller (or close()) aborted the call. */
  | 'aborted'
  /** Any other error thrown by the transport or the user's function. */
  | 'error';

/** The classification of one attempt. Instances are shared and frozen: compare fields, not identity. */
export interface Outcome {
  readonly reason: OutcomeReason;
  /** True when the endpoint did its job; false counts against its health (5xx, errors, timeouts). */
  readonly ok: boolean;
  /** True when trying again (elsewhere) can help; retries also require an idempotent call unless reason is `connect`. */
  readonly retryable: boolean;
  /** The response status for HTTP-like transports; 0 when there was no response. */
  readonly status: number;
}

function outcome(reason: OutcomeReason, ok: boolean, retryable: boolean, status = 0): Outcome {
  return Object.freeze({ reason, ok, retryable, status });
}

/** Shared outcome constants, so classifying the common cases allocates nothing. */
export const Outcomes = Object.freeze({
  success: outcome('ok', true, false),
  connect: outcome('connect', false, true),
  reset: outcome('reset', false, true),
  timeout: outcome('timeout', false, true),
  deadline: outcome('deadline', false, false),
  aborted: outcome('aborted', false, false),
  error: outcome('error', false, false),
  retryableError: outcome('error', false, true),
});

/** Retry-safe regardless of method: the request provably never reached the server. */
export function isSafeToRetryAnyMethod(o: Outcome): boolean {
  return o.reason === 'connect';
}

/**
 * A table of status outcomes, built once per classifier, so that mapping a
 * status to its outcome is an array read.
 */
export function statusOutcomeTable(retryableStatuses: ReadonlySet<number>): readonly Outcome[] {
  const table: Outcome[] = [];
  for (let status = 100; status < 600; status++) {
    const failed = status >= 500;
    const retryable = retryableStatuses.has(status);
    table[status] = failed || retryable ? outcome('status', !failed, retryable, status) : outcome('ok', true, false, status);
  }
  return table;
}
