import type { Endpoint } from '../core/endpoint.js';

/** A whole endpoint set, as discovery last saw it. */
export interface ResolverUpdate {
  /** Every endpoint currently known; an update replaces the previous set. */
  readonly endpoints: readonly Endpoint[];
  /** Where the set came from, for status and telemetry (`static`, `consul:orders`, ...). */
  readonly source: string;
}

/** Receives what a resolver finds. */
export interface ResolverListener {
  /** A new endpoint set. May be called synchronously inside `subscribe`. */
  onUpdate(update: ResolverUpdate): void;
  /** Discovery failed; the listener keeps using the last set it received. */
  onError(error: Error): void;
}

/**
 * The discovery seam: a resolver watches a registry and pushes whole endpoint
 * sets to its subscribers.
 *
 * Timing contract:
 * - `subscribe` starts watching if nothing else is, and delivers the current
 *   set as soon as one is known (synchronously if already known).
 * - An update always carries the complete set; an empty set is a valid
 *   update (the service has no instances).
 * - Errors never remove endpoints: a resolver that cannot reach its registry
 *   calls `onError` and keeps quiet until it has a new good set.
 * - The returned function unsubscribes; when the last subscriber leaves, the
 *   resolver releases its timers, sockets and watches.
 */
export interface Resolver {
  /** A short description for errors and status (`static`, `consul:orders`). */
  readonly source: string;
  subscribe(listener: ResolverListener): () => void;
}
