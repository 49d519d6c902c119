import type { Clock, TimerHandle } from '../core/clock.js';
import type { CallRecord } from './call-record.js';

/**
 * A wait between attempts (a retry's backoff, waiting for discovery) that the
 * call's abort, the client's close or an external event (a new endpoint set)
 * can end early. Resolves true when the time ran out, false when woken.
 *
 * Unlike attempt timeouts, a pause keeps the process alive: during it nothing
 * else (no socket) holds the event loop open for the pending call. Pauses
 * happen only after a failure, so their own timer costs the success path nothing.
 */
export class Pause {
  readonly #clock: Clock;
  readonly #call: CallRecord;
  #timer: TimerHandle | undefined = undefined;
  #resolve: ((elapsed: boolean) => void) | undefined = undefined;

  constructor(clock: Clock, call: CallRecord) {
    this.#clock = clock;
    this.#call = call;
  }

  /** Waits up to `ms` (until woken when `ms` is Infinity). */
  wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#call.pause = this;
      if (ms !== Infinity) this.#timer = this.#clock.setTimeout(() => this.#end(true), ms, true);
    });
  }

  /** Ends the wait now. */
  wake(): void {
    this.#end(false);
  }

  #end(elapsed: boolean): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#resolve = undefined;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#call.pause === this) this.#call.pause = undefined;
    resolve(elapsed);
  }
}
