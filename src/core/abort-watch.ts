/** What one watched signal holds: the items waiting on it and its single listener. */
interface Watched<T> {
  readonly items: Set<T>;
  readonly listener: () => void;
}

/**
 * One `'abort'` listener per caller signal, however many pending items share
 * it. Callers often pass one `AbortSignal` to many calls (a request's signal
 * to every call it fans out to); a listener per call would pass Node's limit
 * of 10 and print `MaxListenersExceededWarning`, and cost a closure each.
 */
export class AbortWatch<T> {
  readonly #watched = new WeakMap<AbortSignal, Watched<T>>();
  readonly #onAbort: (item: T, reason: unknown) => void;

  /** `onAbort(item, reason)` runs for every item still watched when its signal aborts. */
  constructor(onAbort: (item: T, reason: unknown) => void) {
    this.#onAbort = onAbort;
  }

  /** Watches `signal` for `item` (the signal must not have aborted yet). */
  watch(signal: AbortSignal, item: T): void {
    let watched = this.#watched.get(signal);
    if (watched === undefined) {
      const items = new Set<T>();
      const listener = (): void => {
        this.#watched.delete(signal);
        for (const each of items) this.#onAbort(each, signal.reason);
        items.clear();
      };
      watched = { items, listener };
      // Listening first: a signal that cannot be listened to (it throws) leaves no entry without a listener behind.
      signal.addEventListener('abort', listener, { once: true });
      this.#watched.set(signal, watched);
    }
    watched.items.add(item);
  }

  /** Stops watching `signal` for `item`; the listener goes when no item is left. */
  unwatch(signal: AbortSignal, item: T): void {
    const watched = this.#watched.get(signal);
    if (watched === undefined || !watched.items.delete(item) || watched.items.size > 0) return;
    this.#watched.delete(signal);
    signal.removeEventListener('abort', watched.listener);
  }
}
