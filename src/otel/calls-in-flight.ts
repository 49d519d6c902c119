import type { CallContext } from '../core/call-context.js';
import type { ObserverSlot } from '../core/call-observer.js';
import type { CallState } from './call-state.js';

/** The client's record of a call, whose slot an observer may fill; other call contexts have none. */
function slotOf(call: CallContext): Partial<ObserverSlot> {
  return call as CallContext & Partial<ObserverSlot>;
}

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
 * cost several times). The record goes in the call's observer slot
 * ({@link ObserverSlot}), or in a `WeakMap` when another observer of the
 * client holds the slot, and the records link themselves into a list that
 * forgets each one as it leaves.
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
    if (this.#size === 0) return undefined;
    const inSlot = slotOf(call).observerRecord as CallState | undefined;
    // A slot filled by another observer holds a record of another list.
    return inSlot !== undefined && inSlot.inFlightOf === this ? inSlot : this.#byCall.get(call);
  }

  /** Adds the record of a call starting; a call has at most one. */
  add(state: CallState): void {
    const slot = slotOf(state.call);
    // A slot costs a field write; a WeakMap entry about 0.3 us over the call's life.
    if ('observerRecord' in slot && slot.observerRecord === undefined) slot.observerRecord = state;
    else this.#byCall.set(state.call, state);
    state.inFlightOf = this;
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
    const slot = slotOf(call);
    if (slot.observerRecord === state) slot.observerRecord = undefined;
    else this.#byCall.delete(call);
    state.inFlightOf = undefined;
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
