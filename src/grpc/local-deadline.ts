import { status, type ServiceError } from '@grpc/grpc-js';
import { attemptDeadlineError } from '../attempts/call-errors.js';
import type { AttemptContext } from '../core/attempt.js';
import { Outcomes, type Outcome } from '../core/outcome.js';
import { grpcWallNow } from './metadata.js';

/** The outcome of each deadline error {@link localDeadline} raised, as meshkit's own deadline timer would have classified the attempt. */
const deadlineOutcomes = new WeakMap<object, Outcome>();

/**
 * A DEADLINE_EXCEEDED raised locally by the deadline meshkit gave grpc-js is
 * the call's deadline: report it as meshkit does (`ERR_DEADLINE_EXCEEDED`,
 * blamed on the caller when the caller set the deadline and no attempt had
 * failed by the upstream's doing), whichever timer fired first. One raised
 * by the server (before the deadline) stays as it is.
 * @internal Shared by every governed call.
 */
export function localDeadline(error: ServiceError, deadline: Date | undefined, attempt: AttemptContext): Error {
  if (error.code !== status.DEADLINE_EXCEEDED || deadline === undefined || grpcWallNow() < deadline.getTime() - 1) return error;
  const local = attemptDeadlineError(attempt, error);
  // The attempt was cut short by the call's deadline: a caller's deadline says nothing of the endpoint (as for meshkit's timer).
  deadlineOutcomes.set(local, attempt.call.deadlineIsCallers ? Outcomes.deadline : Outcomes.totalTimeout);
  return local;
}

/** @internal The outcome of an error {@link localDeadline} raised; undefined for any other error. */
export function localDeadlineOutcome(error: unknown): Outcome | undefined {
  return typeof error === 'object' && error !== null ? deadlineOutcomes.get(error) : undefined;
}
