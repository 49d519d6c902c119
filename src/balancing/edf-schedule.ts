/**
 * Earliest-deadline-first schedule over weighted entries (the scheduler
 * Envoy's weighted round robin uses): entry i is due every 1 / weight[i] units
 * of virtual time; `next()` returns the entry due first and moves its deadline
 * on. Over any window each entry is chosen within one pick of its weight share.
 * A binary heap of indices in typed arrays: O(log n) per pick, no allocation.
 */
export class EdfSchedule {
  readonly #step: Float64Array;
  readonly #deadline: Float64Array;
  readonly #heap: Int32Array;

  /** `phase(i)` in [0, 1) offsets entry i's first deadline, so that clients built together do not march in step. */
  constructor(weights: ArrayLike<number>, phase: (index: number) => number) {
    const count = weights.length;
    this.#step = new Float64Array(count);
    this.#deadline = new Float64Array(count);
    this.#heap = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const step = 1 / (weights[i] as number);
      this.#step[i] = step;
      this.#deadline[i] = phase(i) * step;
      this.#heap[i] = i;
    }
    for (let i = (count >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  /** The index due first; its next deadline is one step later. */
  next(): number {
    const heap = this.#heap;
    const top = heap[0] as number;
    this.#deadline[top] = (this.#deadline[top] as number) + (this.#step[top] as number);
    this.#siftDown(0);
    return top;
  }

  #before(a: number, b: number): boolean {
    const da = this.#deadline[a] as number;
    const db = this.#deadline[b] as number;
    return da < db || (da === db && a < b);
  }

  #siftDown(position: number): void {
    const heap = this.#heap;
    const count = heap.length;
    const item = heap[position] as number;
    for (;;) {
      let child = 2 * position + 1;
      if (child >= count) break;
      const right = child + 1;
      if (right < count && this.#before(heap[right] as number, heap[child] as number)) child = right;
      if (!this.#before(heap[child] as number, item)) break;
      heap[position] = heap[child] as number;
      position = child;
    }
    heap[position] = item;
  }
}
