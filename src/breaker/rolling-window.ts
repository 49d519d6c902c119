/**
 * Counts of calls and failures over a rolling window of `buckets` buckets
 * (Hystrix's and opossum's design): calls land in the current bucket, and
 * each {@link rotate} drops the oldest bucket and starts an empty one. The
 * totals are kept as running sums, so reading them costs nothing and
 * recording a call is two additions. Time-free: the owner decides when to
 * rotate (a shared timer on the injected clock; see rotation.ts).
 * @internal
 */
export class RollingWindow {
  readonly #calls: number[];
  readonly #failures: number[];
  /** Index of the current bucket. */
  #current = 0;
  #totalCalls = 0;
  #totalFailures = 0;

  /** @param buckets an integer >= 1 (validated by the breaker's options). */
  constructor(buckets: number) {
    this.#calls = new Array<number>(buckets).fill(0);
    this.#failures = new Array<number>(buckets).fill(0);
  }

  /** Calls counted over the window. */
  get calls(): number {
    return this.#totalCalls;
  }

  /** Of those, failures. */
  get failures(): number {
    return this.#totalFailures;
  }

  /** Of those, successes (every counted call is one or the other). */
  get successes(): number {
    return this.#totalCalls - this.#totalFailures;
  }

  /** Counts one call in the current bucket. */
  record(ok: boolean): void {
    const i = this.#current;
    this.#calls[i] = (this.#calls[i] as number) + 1;
    this.#totalCalls++;
    if (ok) return;
    this.#failures[i] = (this.#failures[i] as number) + 1;
    this.#totalFailures++;
  }

  /** Drops the oldest bucket; it becomes the new, empty, current one. */
  rotate(): void {
    const n = this.#calls.length;
    const oldest = (this.#current + 1) % n;
    this.#totalCalls -= this.#calls[oldest] as number;
    this.#totalFailures -= this.#failures[oldest] as number;
    this.#calls[oldest] = 0;
    this.#failures[oldest] = 0;
    this.#current = oldest;
  }

  /** Empties every bucket. */
  clear(): void {
    this.#calls.fill(0);
    this.#failures.fill(0);
    this.#totalCalls = 0;
    this.#totalFailures = 0;
  }
}
