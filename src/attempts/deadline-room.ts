import type { Clock } from '../core/clock.js';
import { Outcomes, type Outcome } from '../core/outcome.js';
import type { Call } from './attempt.js';

/**
 * The least time left worth sending an attempt with, in ms. The deadline
 * header carries whole milliseconds, rounded down: with less than this left it
 * would say 0, and the next hop refuses such a request on arrival with a 504.
 */
export const MIN_ATTEMPT_MS = 1;

/** True when `deadline` leaves less than {@link MIN_ATTEMPT_MS} at `now`: too late to send an attempt. */
export function tooLateToSend(deadline: number, now: number): boolean {
  return deadline - now < MIN_ATTEMPT_MS;
}

/**
 * The outcome of an attempt answered 504. One that arrives within a
 * millisecond of a deadline the caller chose is that deadline running out at
 * the next hop, not the upstream failing: the request carried it (rounded
 * down to whole ms), and the next hop answers 504 once it is spent, on
 * arrival or from its own calls. Such an attempt gets the outcome the
 * deadline's own timer would have given it, which charges no endpoint; the
 * caller still gets the 504. An earlier 504 stays the upstream's (a gateway
 * timeout of its own), and so does one at the client's own `timeout.total`.
 */
export function outcomeOfGatewayTimeout(call: Call, outcome: Outcome, clock: Clock): Outcome {
  if (outcome.ok || !call.deadlineIsCallers || !tooLateToSend(call.deadline, clock.now())) return outcome;
  return Outcomes.deadlineAnswer;
}
