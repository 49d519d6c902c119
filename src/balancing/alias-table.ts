import { chanceThreshold, type PickRandom } from './pick-random.js';

/**
 * Samples index i with probability weight[i] / sum(weights) in O(1) from two
 * random draws, a column and a side (Walker's alias method, Vose's
 * construction). Built once per endpoint set in O(n); two Int32Arrays (the
 * stay-in-column chance as an integer threshold, and the alias), so 8 bytes
 * per endpoint.
 */
export class AliasTable {
  readonly #threshold: Int32Array;
  readonly #alias: Int32Array;

  constructor(weights: ArrayLike<number>) {
    const count = weights.length;
    this.#threshold = new Int32Array(count);
    this.#alias = new Int32Array(count);
    let total = 0;
    for (let i = 0; i < count; i++) total += weights[i] as number;
    const scaled = new Float64Array(count);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < count; i++) {
      scaled[i] = ((weights[i] as number) * count) / total;
      ((scaled[i] as number) < 1 ? small : large).push(i);
    }
    while (small.length > 0 && large.length > 0) {
      const less = small.pop() as number;
      const more = large.pop() as number;
      this.#threshold[less] = chanceThreshold(scaled[less] as number);
      this.#alias[less] = more;
      scaled[more] = (scaled[more] as number) + (scaled[less] as number) - 1;
      ((scaled[more] as number) < 1 ? small : large).push(more);
    }
    // Leftovers are 1 up to rounding error: they keep their own column.
    for (const i of large) this.#threshold[i] = chanceThreshold(1);
    for (const i of small) this.#threshold[i] = chanceThreshold(1);
  }

  /** An index drawn by weight: a uniform column, then its own index or its alias. */
  sample(random: PickRandom): number {
    const column = random.index(this.#threshold.length);
    return random.chance(this.#threshold[column] as number) ? column : (this.#alias[column] as number);
  }
}
