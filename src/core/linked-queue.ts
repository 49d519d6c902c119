/** What an item needs to sit in a {@link LinkedQueue}: its own links, so queueing allocates nothing. */
export interface QueueLinks<T> {
  prev: T | undefined;
  next: T | undefined;
}

/**
 * An intrusive FIFO: items carry their links, so push and removal from the
 * middle (an abort, a timeout) are O(1) and allocate nothing. Used by the
 * policies that make calls wait (bulkhead, rate limit).
 */
export class LinkedQueue<T extends QueueLinks<T>> {
  head: T | undefined = undefined;
  #tail: T | undefined = undefined;
  /** Items queued. */
  size = 0;

  push(item: T): void {
    item.prev = this.#tail;
    if (this.#tail === undefined) this.head = item;
    else this.#tail.next = item;
    this.#tail = item;
    this.size++;
  }

  /** Unlinks `item`; false when it was not queued (it left already). */
  remove(item: T): boolean {
    if (item.prev === undefined && this.head !== item) return false;
    if (item.prev === undefined) this.head = item.next;
    else item.prev.next = item.next;
    if (item.next === undefined) this.#tail = item.prev;
    else item.next.prev = item.prev;
    item.prev = item.next = undefined;
    this.size--;
    return true;
  }
}
