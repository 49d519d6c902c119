import type { Endpoint } from '../core/endpoint.js';

/** One id's state, with what a sync needs to find it again without hashing. */
interface Entry<S> {
  readonly state: S;
  /** The object the id last came as (the last occurrence, when a set names it twice). */
  endpoint: Endpoint;
  /** The sync that last saw the id (a duplicate in one set is seen twice, counted once). */
  seen: number;
  /** Where the id was in the last set (its last occurrence), so a sync can resume the walk after it. */
  index: number;
}

/**
 * Per-endpoint balancer state keyed by `endpoint.id`: it survives set updates
 * for endpoints that stay (even when discovery hands out new objects) and is
 * dropped for endpoints that left, so memory follows the current set.
 *
 * A sync is cheap when the new set is the last one with a few endpoints in or
 * out, as discovery delivers it (the same Endpoint objects, in the same
 * order): it walks the new set beside the last one, comparing each endpoint
 * with the object last seen at that place, and hashes only the ids where they
 * differ. No map is rebuilt; the work is a few field writes per endpoint.
 */
export class EndpointStates<S> {
  /** The states by id, for the per-attempt lookups (kept apart from the entries so that they stay one map read). */
  readonly #states = new Map<string, S>();
  /** The entries by id, for syncs. */
  readonly #byId = new Map<string, Entry<S>>();
  readonly #create: (endpoint: Endpoint) => S;
  readonly #drop: ((state: S) => void) | undefined;
  readonly #renew: ((state: S, endpoint: Endpoint) => void) | undefined;
  /** The entries of the last set (index i is endpoint i's); the next sync walks them. */
  #entries: readonly Entry<S>[] = [];
  #sync = 0;

  /**
   * `drop`: called once for each state whose endpoint left the set (to release what it holds). Default none.
   * `renew`: called when a known id comes as another object than last time (the state may follow it). Default none.
   */
  constructor(create: (endpoint: Endpoint) => S, drop?: (state: S) => void, renew?: (state: S, endpoint: Endpoint) => void) {
    this.#create = create;
    this.#drop = drop;
    this.#renew = renew;
  }

  /** Returns the states aligned with `endpoints` (index i is endpoint i's), keeping known ones. */
  sync(endpoints: readonly Endpoint[]): S[] {
    const sync = ++this.#sync;
    const previous = this.#entries;
    const entries = new Array<Entry<S>>(endpoints.length);
    const states = new Array<S>(endpoints.length);
    let distinct = 0;
    let cursor = 0; // the walk's position in the previous set
    for (let i = 0; i < endpoints.length; i++) {
      const endpoint = endpoints[i] as Endpoint;
      let entry: Entry<S> | undefined;
      // The entry's object, not the old set's: sets are often frozen, and reading a frozen array costs more.
      // (An id the old set named twice holds its last object, so its first place falls to the lookup below.)
      if (cursor < previous.length && (previous[cursor] as Entry<S>).endpoint === endpoint) {
        entry = previous[cursor] as Entry<S>;
        cursor++;
      } else {
        const id = endpoint.id;
        entry = this.#byId.get(id);
        if (entry === undefined) {
          entry = { state: this.#create(endpoint), endpoint, seen: 0, index: -1 };
          this.#byId.set(id, entry);
          this.#states.set(id, entry.state);
        } else if (entry.seen !== sync) {
          cursor = entry.index + 1; // resume after it: the rest of the old set usually follows in order
        }
      }
      if (entry.seen !== sync) {
        entry.seen = sync;
        distinct++;
      }
      entry.index = i; // read only before this sync first sees the entry: a later duplicate may move it
      if (entry.endpoint !== endpoint) {
        entry.endpoint = endpoint;
        this.#renew?.(entry.state, endpoint);
      }
      entries[i] = entry;
      states[i] = entry.state;
    }
    if (this.#byId.size > distinct) this.#dropUnseen(previous, sync);
    this.#entries = entries;
    return states;
  }

  /** Drops the entries of the previous set that this sync did not see (each id once). */
  #dropUnseen(previous: readonly Entry<S>[], sync: number): void {
    const drop = this.#drop;
    for (let i = 0; i < previous.length; i++) {
      const entry = previous[i] as Entry<S>;
      if (entry.seen === sync) continue;
      entry.seen = sync; // a duplicate later in the old set is not dropped twice
      const id = entry.endpoint.id;
      this.#byId.delete(id);
      this.#states.delete(id);
      drop?.(entry.state);
    }
  }

  /** The state of a current endpoint; undefined for one that is not (or no longer) in the set. */
  get(id: string): S | undefined {
    return this.#states.get(id);
  }

  /** The states of the current set by id: a live, read-only view (for owners that look states up per attempt). */
  get byId(): ReadonlyMap<string, S> {
    return this.#states;
  }

  /** Whether `id` is in the current set. */
  has(id: string): boolean {
    return this.#states.has(id);
  }

  /** Number of endpoints with state. */
  get size(): number {
    return this.#states.size;
  }
}
