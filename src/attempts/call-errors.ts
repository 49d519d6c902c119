import { invalidArgument, isMeshkitError, MeshkitError } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import type { Attempt, Call } from './attempt.js';

/** Why a hedged call's losing attempts are cancelled (never seen by the caller). */
export function hedgeLost(service: string): MeshkitError {
  return new MeshkitError('ERR_ABORTED', `${service}: another attempt of this call answered first`, { service, reason: 'hedge-lost' }, { blame: 'local' });
}

/**
 * The error a call ends with when its final attempt failed: meshkit's own
 * errors as they are; a transport's or governed function's error wrapped
 * with the call's context (`ERR_UPSTREAM`, or `ERR_INVALID_ARGUMENT` when the
 * request was refused locally before it was sent), the original as `cause`.
 */
export function callError(attempt: Attempt): unknown {
  const error = attempt.error;
  const outcome = attempt.outcome as Outcome;
  // meshkit's own errors are complete; an error the classifier calls ok is the service's answer (a Thrift exception).
  if (isMeshkitError(error) || outcome.ok) return error;
  const { service } = attempt.call;
  const endpoint = attempt.endpoint.id;
  if (outcome.reason === 'refused') {
    return invalidArgument('request', 'a request the transport can send (it refused it before sending a byte)', describeError(error), { cause: error });
  }
  return new MeshkitError('ERR_UPSTREAM', `${service}: attempt ${attempt.number} to ${endpoint} failed: ${describeError(error)}`, {
    service, endpoint, attempt: attempt.number, reason: outcome.reason,
  }, { cause: error });
}

/**
 * The outcome of an attempt whose result the call's own classifier could not
 * classify (a `call()` option's `classify` or `classifyError` threw, or
 * returned no Outcome): the caller's doing, so it moves no shared state, and
 * not retried, since the same classifier would judge the next attempt.
 */
export const MISCLASSIFIED: Outcome = Object.freeze({ reason: 'error', blame: 'caller', ok: false, retryable: false, status: 0 });

/**
 * The error a call ends with when its classifier failed on an attempt's
 * result: `ERR_INVALID_ARGUMENT` naming the option (`options.classify` or
 * `options.classifyError`), blame `'caller'`, what it threw as `cause`.
 */
export function classifierError(attempt: Attempt, option: string, thrown: unknown): MeshkitError {
  const { service } = attempt.call;
  return new MeshkitError('ERR_INVALID_ARGUMENT', `${service}: ${option} failed on the result of attempt ${attempt.number}: ${describeError(thrown)}`, {
    argument: option, expected: 'a function that returns an Outcome', service, endpoint: attempt.endpoint.id, attempt: attempt.number,
  }, { cause: thrown });
}

/** A short description of a thrown value for a message (its code and message). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

/** The caller's signal aborted the call. */
export function abortedError(service: string, reason: unknown): MeshkitError {
  return new MeshkitError('ERR_ABORTED', `${service}: the call was aborted`, { service }, { cause: reason });
}

/**
 * The call's deadline ran out between attempts or before one could start.
 * It is the caller's doing when the caller set the deadline and no attempt
 * had failed by the upstream's doing; otherwise the upstream's.
 */
export function deadlineError(service: string, call: Call, cause: unknown, last: Outcome | undefined, stale?: boolean): MeshkitError {
  const upstreamFailed = call.upstreamFailed || (last !== undefined && !last.ok && last.blame === 'upstream');
  const blame = call.deadlineIsCallers && !upstreamFailed ? 'caller' : 'upstream';
  return new MeshkitError('ERR_DEADLINE_EXCEEDED', `${service}: deadline exceeded after ${call.attempts} attempt(s)`, {
    service, attempts: call.attempts, ...(stale === undefined ? {} : { stale }),
  }, cause === undefined ? { blame } : { cause, blame });
}
