import type { Call } from './attempt.js';

/**
 * @internal The calls an executor has in flight, as an intrusive
 * doubly-linked list through the calls themselves (no allocation per call),
 * so `close()` can stop them and wait for them.
 */
export class ActiveCalls {
  /** The most recently linked call; follow `activeNext` for the rest. */
  first: Call | undefined = undefined;
  /** Calls in flight. */
  count = 0;
  #idle: (() => void) | undefined = undefined;

  link(call: Call): void {
    call.activeNext = this.first;
    if (this.first !== undefined) this.first.activePrev = call;
    this.first = call;
    this.count++;
  }

  unlink(call: Call): void {
    const { activePrev: prev, activeNext: next } = call;
    if (prev === undefined) this.first = next;
    else prev.activeNext = next;
    if (next !== undefined) next.activePrev = prev;
    call.activePrev = call.activeNext = undefined;
    if (--this.count === 0 && this.#idle !== undefined) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }

  /** Resolves when no call is in flight. */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#idle;
      this.#idle = () => {
        previous?.();
        resolve();
      };
    });
  }
}
