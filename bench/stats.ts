/** Median of a non-empty list (mean of the middle two for even lengths). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile of an already sorted array; `p` in [0, 100]. */
export function percentileOfSorted(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/**
 * Latency samples in a growable Float64Array: a push costs no allocation in the
 * common case, so recording does not disturb the clients being measured.
 */
export class LatencyRecorder {
  #samples = new Float64Array(1 << 14);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  add(ms: number): void {
    if (this.#length === this.#samples.length) {
      const grown = new Float64Array(this.#samples.length * 2);
      grown.set(this.#samples);
      this.#samples = grown;
    }
    this.#samples[this.#length++] = ms;
  }

  addAll(other: LatencyRecorder): void {
    for (const value of other.values()) this.add(value);
  }

  values(): Float64Array {
    return this.#samples.subarray(0, this.#length);
  }

  /** A sorted copy, for percentiles. */
  sorted(): Float64Array {
    return this.values().slice().sort();
  }
}
