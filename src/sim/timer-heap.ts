/** One scheduled event: fires at `at`; `seq` orders events due at the same time (first scheduled, first run). */
export interface HeapEvent {
  readonly at: number;
  readonly seq: number;
  /** Cleared when the event is cancelled; a cancelled event stays in the heap until it reaches the top. */
  callback: (() => void) | undefined;
}

/**
 * A binary min-heap of events ordered by (time, sequence): push and pop are
 * O(log n), cancellation is O(1) (the event is marked and skipped when it
 * surfaces). A fleet simulation keeps hundreds of thousands of timers
 * pending, so a scan per event (as a test clock may do) is not an option.
 */
export class TimerHeap {
  #items: HeapEvent[] = [];
  #live = 0;

  /** Events scheduled and not yet run or cancelled. */
  get size(): number {
    return this.#live;
  }

  push(event: HeapEvent): void {
    const items = this.#items;
    let index = items.length;
    items.push(event);
    this.#live++;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(event, items[parent]!)) break;
      items[index] = items[parent]!;
      index = parent;
    }
    items[index] = event;
  }

  /** Marks `event` cancelled; false when it already ran or was cancelled. */
  cancel(event: HeapEvent): boolean {
    if (event.callback === undefined) return false;
    event.callback = undefined;
    this.#live--;
    return true;
  }

  /** The earliest live event, without removing it. */
  peek(): HeapEvent | undefined {
    this.#dropCancelled();
    return this.#items[0];
  }

  /** Removes and returns the earliest live event. */
  pop(): HeapEvent | undefined {
    this.#dropCancelled();
    const top = this.#removeTop();
    if (top !== undefined) this.#live--;
    return top;
  }

  #dropCancelled(): void {
    while (this.#items.length > 0 && this.#items[0]!.callback === undefined) this.#removeTop();
  }

  #removeTop(): HeapEvent | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let index = 0;
    const length = items.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && before(items[right]!, items[left]!) ? right : left;
      if (!before(items[child]!, last)) break;
      items[index] = items[child]!;
      index = child;
    }
    items[index] = last;
    return top;
  }
}

function before(a: HeapEvent, b: HeapEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
