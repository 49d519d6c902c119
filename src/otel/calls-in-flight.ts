import type { CallContext } from '../core/call-context.js';
import type { CallState } from './call-state.js';

/**
 * The telemetry records of one client's calls in flight: found by call, and
 * walked in order (for span events and close). Not a `Map`, on purpose: a
 * long-lived `Map` with an entry added and removed per call outlives a few
 * garbage collections, and from then on V8 allocates each of its regrown
 * hash tables in the old generation. A replaced table is not cleared, so
 * until the next full collection it keeps the calls it held reachable from
 * the old generation: every young collection then copies them, and then
 * promotes them, with their attempts, responses and buffers (measured: about
 * 4 KB promoted per HTTP request, which multiplied the young collections'
 * cost several times). A `WeakMap` finds the record without holding the
 * call, and the records link themselves into a list that forgets each one
 * as it leaves.
 */
export class CallsInFlight {
  readonly #byCall = new WeakMap<CallContext, CallState>();
  /** The most recently added record; follow `nextInFlight`. */
  #first: CallState | undefined = undefined;
  #size = 0;

  /** Records in flight. */
  get size(): number {
    return this.#size;
  }

  get(call: CallContext): CallState | undefined {
    return this.#size === 0 ? undefined : this.#byCall.get(call);
  }

  /** Adds the record of a call starting; a call has at most one. */
  add(state: CallState): void {
    this.#byCall.set(state.call, state);
    const first = this.#first;
    state.nextInFlight = first;
    if (first !== undefined) first.previousInFlight = state;
    this.#first = state;
    this.#size++;
  }

  /** Removes and returns the record of `call`, if it is in flight. */
  take(call: CallContext): CallState | undefined {
    const state = this.get(call);
    if (state === undefined) return undefined;
    this.#byCall.delete(call);
    const { previousInFlight: previous, nextInFlight: next } = state;
    if (previous === undefined) this.#first = next;
    else previous.nextInFlight = next;
    if (next !== undefined) next.previousInFlight = previous;
    // A record that reached the old generation must not keep its former neighbours alive.
    state.previousInFlight = state.nextInFlight = undefined;
    this.#size--;
    return state;
  }

  /** Every record in flight, newest first (a snapshot: `take` may run while it is read). */
  values(): CallState[] {
    const all: CallState[] = [];
    for (let state = this.#first; state !== undefined; state = state.nextInFlight) all.push(state);
    return all;
  }

  /** Removes every record and returns them. */
  takeAll(): CallState[] {
    const all = this.values();
    for (const state of all) this.take(state.call);
    return all;
  }
}
