import type { Clock } from '../core/clock.js';
import type { Call } from './attempt.js';

/**
 * @internal Calls that end before any attempt (no endpoints, a breaker or
 * limit refusing, the client closed, a spent deadline) would otherwise
 * settle in microtasks only: a caller retrying in a tight loop would then
 * never let the event loop run discovery, health checks or timers. Such
 * refusals are rejected together on the next macrotask (`Clock.defer`, else
 * a 0 ms timer); calls that made an attempt waited for I/O already and
 * settle at once. Costs nothing on the success path.
 */
export class DeferredRefusals {
  readonly #clock: Clock;
  #calls: Call[] = [];
  #errors: unknown[] = [];

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Rejects `call` (whose promise is still pending) with `error` on the next macrotask. */
  add(call: Call, error: unknown): void {
    this.#calls.push(call);
    this.#errors.push(error);
    if (this.#calls.length > 1) return;
    const clock = this.#clock;
    if (clock.defer !== undefined) clock.defer(this.#rejectAll);
    else clock.setTimeout(this.#rejectAll, 0, true);
  }

  readonly #rejectAll = (): void => {
    const calls = this.#calls;
    const errors = this.#errors;
    this.#calls = [];
    this.#errors = [];
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i] as Call;
      const reject = call.rejectCall as (error: unknown) => void;
      call.resolveCall = call.rejectCall = undefined;
      reject(errors[i]);
    }
  };
}
