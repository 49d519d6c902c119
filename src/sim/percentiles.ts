/**
 * Latency samples kept whole, so that percentiles are exact: a simulated
 * run has at most a few million user requests, and eight bytes each is
 * cheaper than the error of a sketch at p99.9.
 */
export class SampleBuffer {
  #values: Float64Array;
  #length = 0;

  /** `capacity`: the initial room, in samples (default 1024); it doubles when full. */
  constructor(capacity = 1024) {
    this.#values = new Float64Array(Math.max(16, Math.floor(capacity)));
  }

  /** Samples added so far. */
  get length(): number {
    return this.#length;
  }

  /** Adds one sample. */
  push(value: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = value;
  }

  /** A sorted copy of the samples (ascending; the buffer itself keeps arrival order). */
  sorted(): Float64Array {
    return this.#values.slice(0, this.#length).sort();
  }
}

/**
 * The exact `q` quantile (0-1) of ascending `sorted` samples by the
 * nearest-rank rule: the smallest sample with at least `q` of all samples at
 * or below it (q = 0.5 of [1, 2, 3, 4] is 2; q = 1 is the maximum). NaN
 * when there are no samples.
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.ceil(q * n);
  const index = rank <= 1 ? 0 : rank >= n ? n - 1 : rank - 1;
  return sorted[index] as number;
}

/** Fractions a latency CDF is drawn at: every percent, then the tail down to 1 in 100,000. */
export const CDF_FRACTIONS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, index) => (index + 1) / 100),
  0.995, 0.999, 0.9995, 0.9999, 0.99999, 1,
]);

/**
 * The CDF of ascending `sorted` samples as `[latency, fraction]` points at
 * {@link CDF_FRACTIONS}, dropping fractions finer than the samples resolve
 * (a tail point needs at least one sample beyond it). Empty for no samples.
 */
export function cdfPoints(sorted: ArrayLike<number>): [number, number][] {
  const n = sorted.length;
  const points: [number, number][] = [];
  if (n === 0) return points;
  for (const fraction of CDF_FRACTIONS) {
    if (fraction < 1 && (1 - fraction) * n < 1) continue;
    points.push([quantile(sorted, fraction), fraction]);
  }
  return points;
}

/** `value` rounded to `digits` decimals (the precision reports are written at); NaN and infinities become 0. */
export function round(value: number, digits: number): number {
  if (!Number.isFinite(value)) return 0;
  const scale = 10 ** digits;
  const rounded = Math.round(value * scale) / scale;
  return rounded === 0 ? 0 : rounded; // no -0 in JSON
}
