import type { Endpoint } from '../core/endpoint.js';

/**
 * Per-endpoint balancer state keyed by `endpoint.id`: it survives set updates
 * for endpoints that stay (even when discovery hands out new objects) and is
 * dropped for endpoints that left, so memory follows the current set.
 */
export class EndpointStates<S> {
  #byId = new Map<string, S>();
  readonly #create: (endpoint: Endpoint) => S;
  readonly #drop: ((state: S) => void) | undefined;

  /** `drop`: called once for each state whose endpoint left the set (to release what it holds). Default none. */
  constructor(create: (endpoint: Endpoint) => S, drop?: (state: S) => void) {
    this.#create = create;
    this.#drop = drop;
  }

  /** Returns the states aligned with `endpoints` (index i is endpoint i's), keeping known ones. */
  sync(endpoints: readonly Endpoint[]): S[] {
    const next = new Map<string, S>();
    const states = new Array<S>(endpoints.length);
    for (let i = 0; i < endpoints.length; i++) {
      const endpoint = endpoints[i] as Endpoint;
      let state = next.get(endpoint.id) ?? this.#byId.get(endpoint.id);
      if (state === undefined) state = this.#create(endpoint);
      next.set(endpoint.id, state);
      states[i] = state;
    }
    const drop = this.#drop;
    if (drop !== undefined) for (const [id, state] of this.#byId) if (!next.has(id)) drop(state);
    this.#byId = next;
    return states;
  }

  /** The state of a current endpoint; undefined for one that is not (or no longer) in the set. */
  get(id: string): S | undefined {
    return this.#byId.get(id);
  }

  /** Number of endpoints with state. */
  get size(): number {
    return this.#byId.size;
  }

  values(): IterableIterator<S> {
    return this.#byId.values();
  }
}
