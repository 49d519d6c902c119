/**
 * Samples index i with probability weight[i] / sum(weights) in O(1) from one
 * random number (Walker's alias method, Vose's construction). Built once per
 * endpoint set in O(n); two typed arrays, so about 12 bytes per endpoint.
 */
export class AliasTable {
  readonly #threshold: Float64Array;
  readonly #alias: Int32Array;

  constructor(weights: ArrayLike<number>) {
    const count = weights.length;
    this.#threshold = new Float64Array(count);
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
      this.#threshold[less] = scaled[less] as number;
      this.#alias[less] = more;
      scaled[more] = (scaled[more] as number) + (scaled[less] as number) - 1;
      ((scaled[more] as number) < 1 ? small : large).push(more);
    }
    // Leftovers are 1 up to rounding error: they keep their own column.
    for (const i of large) this.#threshold[i] = 1;
    for (const i of small) this.#threshold[i] = 1;
  }

  /** An index drawn by weight; `u` is uniform in [0, 1): its integer part picks a column, its fraction the side. */
  sample(u: number): number {
    const scaled = u * this.#threshold.length;
    const column = Math.floor(scaled);
    return scaled - column < (this.#threshold[column] as number) ? column : (this.#alias[column] as number);
  }
}
