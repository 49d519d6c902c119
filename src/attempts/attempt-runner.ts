import type { Clock } from '../core/clock.js';
import type { Attempt, Call } from './attempt.js';

/**
 * @internal What the hedged race and the retry loop use of the executor that
 * runs them: starting and cancelling attempts, and whether the client
 * still takes work. Both run only after the fast path left off (a hedge
 * delay that rang, a retryable failure), so going through this object costs
 * the success path nothing.
 */
export interface AttemptRunner {
  readonly service: string;
  readonly clock: Clock;
  /** Why the client refuses new work (it is closing); undefined while it takes work. */
  closing(): Error | undefined;
  /** Picks an endpoint and starts one attempt; rejects only when no endpoint can be had. */
  attempt(call: Call): Promise<Attempt>;
  /** Ends an attempt still in flight as cancelled (its late response is discarded on arrival). */
  cancel(attempt: Attempt, reason: Error): void;
}
