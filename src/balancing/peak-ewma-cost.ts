import type { StateSlab } from './state-slab.js';

/** Costs are floored here (ms) so that pending attempts still count when an RTT measures 0. */
const MIN_COST = 0.001;

/**
 * One endpoint's latency estimate for peak EWMA (Finagle's PeakEwma,
 * linkerd2-proxy / tower's `PeakEwma`). A slower response raises the cost at
 * once (the peak); faster ones pull it down as an exponentially weighted
 * moving average with time constant `tau`; and when nothing is observed the
 * cost read decays toward zero, so an endpoint avoided for a while is tried
 * again. A new endpoint starts at the default RTT, and its first response
 * replaces that outright: blended in, a 30 ms default would make a 2 ms
 * endpoint look slow for tens of seconds.
 */
export class PeakEwmaCost {
  // The number fields start at 0, not undeclared: a class field without an initializer starts as
  // `undefined`, which makes V8 store every later double in a newly allocated box (one per write,
  // six per attempt); starting from a number it keeps one box per field and writes in place.
  /** Estimated round-trip time in ms, as of {@link stamp}. */
  cost = 0;
  /** Clock time of the last observation (or of creation). */
  stamp = 0;
  /**
   * ln(cost) + stamp / tau. Every cost decays by the same exp(-now / tau)
   * factor, so comparing these (plus ln(pending + 1)) orders endpoints exactly
   * as their decayed loads at any common `now`: a pick needs no clock read.
   */
  score = 0;
  /**
   * score + ln(pending + 1), the number a pick compares: kept current by
   * every change (and copied to the slab slot, where pickers read it), so a
   * pick reads one number and does no arithmetic.
   */
  rank = 0;
  /** This estimate's slot in the balancer's {@link StateSlab}; -1 without a slab. */
  readonly slot: number;
  readonly #slab: StateSlab | undefined;
  readonly #tau: number;
  #measured = false;
  #pending = 0;

  /** `slab`: where pickers read the rank (a slot is taken now and given back by {@link release}). Default none. */
  constructor(initialCost: number, now: number, tau: number, slab?: StateSlab) {
    this.#tau = tau;
    this.#slab = slab;
    this.slot = slab === undefined ? -1 : slab.take();
    this.cost = Math.max(initialCost, MIN_COST);
    this.stamp = now;
    this.score = Math.log(this.cost) + now / tau;
    this.rank = this.score;
    this.#publish();
  }

  /** The endpoint left the set: give the slab slot back. */
  release(): void {
    this.#slab?.release(this.slot);
  }

  /** Recomputes the rank from score and pending, and copies it to the slab. */
  #publish(): void {
    this.rank = this.score + Math.log(this.#pending + 1);
    if (this.#slab !== undefined) this.#slab.values[this.slot] = this.rank;
  }

  /** Attempts in flight to this endpoint from this client; changed by {@link start} and {@link end}. */
  get pending(): number {
    return this.#pending;
  }

  /** An attempt went out to the endpoint. */
  start(): void {
    this.#pending++;
    this.#publish();
  }

  /** An attempt to the endpoint ended (a no-op at zero: it started before this estimate existed). */
  end(): void {
    if (this.#pending === 0) return;
    this.#pending--;
    this.#publish();
  }

  /** The cost at `now`: the stored cost decayed by exp(-(now - stamp) / tau). Reads do not change state. */
  read(now: number): number {
    const elapsed = now - this.stamp;
    return elapsed > 0 ? this.cost * Math.exp(-elapsed / this.#tau) : this.cost;
  }

  /** cost(now) * (pending + 1): the load P2C compares, so queueing counts as well as speed. */
  load(now: number): number {
    return this.read(now) * (this.pending + 1);
  }

  /**
   * Records a round-trip time. The stored cost is decayed to `now` first and
   * compared with `rtt`: higher takes over at once; lower blends in with
   * weight 1 - exp(-dt / tau), dt being the time since the last observation.
   */
  observe(rtt: number, now: number): void {
    const sample = Math.max(rtt, MIN_COST);
    if (!this.#measured) {
      this.#measured = true;
      this.cost = sample;
    } else {
      const elapsed = now - this.stamp;
      const w = elapsed > 0 ? Math.exp(-elapsed / this.#tau) : 1;
      this.cost = sample > this.cost * w ? sample : this.cost * w + sample * (1 - w);
    }
    if (now > this.stamp) this.stamp = now;
    this.score = Math.log(this.cost) + this.stamp / this.#tau;
    this.#publish();
  }
}
