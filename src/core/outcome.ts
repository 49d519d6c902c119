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
  /** The caller (or close(), or a won hedge race) aborted the call. */
  | 'aborted'
  /** The transport refused the request locally before a byte was sent (a bad header, say): the caller's request is at fault. */
  | 'refused'
  /** Any other error thrown by the transport or the user's function. */
  | 'error';

/**
 * Whose doing an outcome is. Only `upstream` outcomes may move shared state
 * (breakers, outlier ejection, latency estimates, concurrency limits,
 * throttles, the inbound shedder): what a caller did (its abort, its
 * deadline, its malformed request) or meshkit decided locally (close, a
 * hedge race won elsewhere) says nothing about the upstream's health.
 */
export type Blame = 'upstream' | 'caller' | 'local';

/** The classification of one attempt. Instances are shared and frozen: compare fields, not identity. */
export interface Outcome {
  readonly reason: OutcomeReason;
  /** Who caused it; see {@link Blame}. Successes and responses are `upstream`: they are evidence about it. */
  readonly blame: Blame;
  /** True when the endpoint did its job; false counts against its health (5xx, errors, timeouts). */
  readonly ok: boolean;
  /** True when trying again (elsewhere) can help; retries also require an idempotent call unless reason is `connect`. */
  readonly retryable: boolean;
  /** The response status for HTTP-like transports; 0 when there was no response. */
  readonly status: number;
}

function outcome(reason: OutcomeReason, ok: boolean, retryable: boolean, status = 0, blame: Blame = 'upstream'): Outcome {
  return Object.freeze({ reason, blame, ok, retryable, status });
}

/** Shared outcome constants, so classifying the common cases allocates nothing. */
export const Outcomes = Object.freeze({
  success: outcome('ok', true, false),
  connect: outcome('connect', false, true),
  reset: outcome('reset', false, true),
  timeout: outcome('timeout', false, true),
  /** The caller's deadline (a per-call `timeout` or an inherited inbound one, tighter than the client's) ran out first. */
  deadline: outcome('deadline', false, false, 0, 'caller'),
  /** A 504 from the next hop once the caller's deadline, which the request carried, was spent there: the caller's, like {@link Outcomes.deadline}. */
  deadlineAnswer: outcome('deadline', false, false, 504, 'caller'),
  /** The client's own `timeout.total` ran out: the upstream was too slow for the service's stated bound. */
  totalTimeout: outcome('deadline', false, false),
  /** The caller's signal aborted the attempt. */
  aborted: outcome('aborted', false, false, 0, 'caller'),
  /** meshkit stopped the attempt itself: the client closed, or another attempt of a hedged call won. */
  cancelled: outcome('aborted', false, false, 0, 'local'),
  /** The request was refused locally before a byte was sent. */
  refused: outcome('refused', false, false, 0, 'caller'),
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
