/** Samples kept: enough for a stable p99, small enough to sort now and then. */
const SIZE = 1024;
/** New samples between two recomputations of the percentile. */
const REFRESH_EVERY = 64;
/** Samples needed before the estimate is trusted (no hedging before that). */
const MIN_SAMPLES = 32;

/**
 * Recent attempt latencies and one percentile of them, for hedging's "send a
 * backup after the p95". A ring of the last 1024 samples; the percentile is
 * recomputed every 64 samples, so recording costs an array write.
 */
export class LatencyWindow {
  readonly #samples = new Float64Array(SIZE);
  readonly #percentile: number;
  #count = 0;
  #next = 0;
  #sinceRefresh = 0;
  #value: number | undefined = undefined;

  constructor(percentile: number) {
    this.#percentile = percentile;
  }

  record(ms: number): void {
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % SIZE;
    if (this.#count < SIZE) this.#count++;
    if (++this.#sinceRefresh >= REFRESH_EVERY || (this.#value === undefined && this.#count >= MIN_SAMPLES)) this.#refresh();
  }

  /** The percentile of recent samples in ms; undefined until enough samples arrived. */
  get value(): number | undefined {
    return this.#value;
  }

  #refresh(): void {
    this.#sinceRefresh = 0;
    if (this.#count < MIN_SAMPLES) return;
    const sorted = this.#samples.slice(0, this.#count).sort();
    const rank = Math.min(this.#count - 1, Math.ceil((this.#percentile / 100) * this.#count) - 1);
    this.#value = sorted[Math.max(0, rank)];
  }
}
