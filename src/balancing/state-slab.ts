/**
 * One `Float64Array` holding the number a P2C pick compares for each
 * endpoint state (peak EWMA's rank, least request's in-flight count), each
 * state owning a slot for as long as its endpoint is in the set. A pick then
 * compares two entries of one compact array instead of following two
 * endpoint-state objects (and, for doubles, their boxes): at 10,000
 * endpoints the array (80 KB) stays in the CPU's cache, which is what keeps a
 * pick on a large set close to the cost of one on a small set. Slots of
 * endpoints that left are reused; the array doubles when full, so pickers
 * read it through the slab (`slab.values`), never keep it.
 */
export class StateSlab {
  /** The numbers, by slot. Replaced (grown) by {@link take}: read it from the slab each time. */
  values: Float64Array;
  readonly #free: number[] = [];
  #used = 0;

  /** `capacity`: initial slots (default 16). */
  constructor(capacity = 16) {
    this.values = new Float64Array(Math.max(1, capacity));
  }

  /** A slot for a new state: a freed one, or the next, growing the array when full. */
  take(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    if (this.#used === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    return this.#used++;
  }

  /** The state owning `slot` is gone: the slot may be taken again. */
  release(slot: number): void {
    this.values[slot] = 0;
    this.#free.push(slot);
  }

  /** Slots in use (for tests). */
  get size(): number {
    return this.#used - this.#free.length;
  }
}
