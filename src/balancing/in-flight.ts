import type { AttemptContext } from '../core/attempt.js';
import type { Endpoint } from '../core/endpoint.js';
import { EndpointStates } from './endpoint-states.js';
import { StateSlab } from './state-slab.js';

/** One endpoint's attempts in flight from this client; the count is mirrored in the tracker's slab at `slot`. */
export class InFlight {
  active = 0;
  readonly slot: number;

  constructor(slot: number) {
    this.slot = slot;
  }
}

/**
 * Counts attempts in flight per endpoint (by `endpoint.id`) and in total,
 * from the balancer's onAttemptStart / onAttemptEnd feedback. The counts are
 * also kept in {@link slab}, one slot per endpoint, for pickers that compare
 * them (least request).
 */
export class InFlightTracker {
  /** In-flight counts by slot (see {@link InFlight.slot}). */
  readonly slab = new StateSlab();
  readonly #states = new EndpointStates<InFlight>(() => new InFlight(this.slab.take()), (state) => this.#drop(state));
  /** Attempts in flight on endpoints of the current set (kept as the sum of their counters). */
  total = 0;

  /** Aligns counters with a new set; counters of endpoints that left are dropped. */
  sync(endpoints: readonly Endpoint[]): InFlight[] {
    return this.#states.sync(endpoints);
  }

  /** An endpoint left the set: its attempts no longer count, and its slot is free. */
  #drop(state: InFlight): void {
    this.total -= state.active;
    this.slab.release(state.slot);
  }

  get(id: string): InFlight | undefined {
    return this.#states.get(id);
  }

  start(attempt: AttemptContext): void {
    const state = this.#states.get(attempt.endpoint.id);
    if (state === undefined) return; // picked from an older set and gone since: nothing to balance
    state.active++;
    this.slab.values[state.slot] = state.active;
    this.total++;
  }

  end(attempt: AttemptContext): void {
    const state = this.#states.get(attempt.endpoint.id);
    // Zero when the endpoint left and came back while this attempt was out: its new counter never saw the start.
    if (state === undefined || state.active === 0) return;
    state.active--;
    this.slab.values[state.slot] = state.active;
    this.total--;
  }
}
