import type { AttemptContext } from '../core/attempt.js';
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
 * with the call's context, the original as `cause`: `ERR_INVALID_ARGUMENT`
 * when the request was refused locally before it was sent; when the
 * attempt's outcome is not the upstream's doing (blame `'caller'` or
 * `'local'`: the caller's request stream failed, it cancelled its stream),
 * `ERR_DEADLINE_EXCEEDED` for a `'deadline'` outcome and `ERR_ABORTED`
 * otherwise, with the outcome's blame; else `ERR_UPSTREAM`.
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
  const details = { service, endpoint, attempt: attempt.number, reason: outcome.reason };
  if (outcome.blame !== 'upstream') {
    // Wrapped as ERR_UPSTREAM it would read as the upstream's failure, and breakers would count it.
    const deadline = outcome.reason === 'deadline';
    const what = deadline ? 'ran out of time' : `was stopped by the ${outcome.blame === 'caller' ? 'caller' : 'client itself'}`;
    return new MeshkitError(deadline ? 'ERR_DEADLINE_EXCEEDED' : 'ERR_ABORTED', `${service}: attempt ${attempt.number} to ${endpoint} ${what}: ${describeError(error)}`,
      details, { cause: error, blame: outcome.blame });
  }
  return new MeshkitError('ERR_UPSTREAM', `${service}: attempt ${attempt.number} to ${endpoint} failed: ${describeError(error)}`, details, { cause: error });
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

/**
 * The error of an attempt whose transport was given the call's deadline and
 * ran it out before meshkit's own timer fired (grpc-js's deadline timer,
 * say): `ERR_DEADLINE_EXCEEDED` with the blame meshkit's timer would have
 * given it (see `timeoutError`): the caller's when the caller set the
 * deadline and no attempt had failed by the upstream's doing, else the
 * upstream's. `cause` is the transport's error.
 */
export function attemptDeadlineError(attempt: AttemptContext, cause: unknown): MeshkitError {
  const { call } = attempt;
  // Calls the client runs are CallRecords, which know whether the upstream failed an earlier attempt.
  const upstreamFailed = (call as { readonly upstreamFailed?: boolean }).upstreamFailed === true;
  return new MeshkitError('ERR_DEADLINE_EXCEEDED', `${call.service}: deadline exceeded during attempt ${attempt.number}`, {
    service: call.service, endpoint: attempt.endpoint.id, attempt: attempt.number,
  }, { cause, blame: call.deadlineIsCallers && !upstreamFailed ? 'caller' : 'upstream' });
}
