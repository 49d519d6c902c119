import type { Endpoint } from '../core/endpoint.js';

/** One entry of a registry answer that was left out of the set, and why. */
export interface RejectedEntry {
  /** The entry as the registry gave it (or the endpoint an `endpointFilter` refused). */
  readonly entry: unknown;
  /** Why it was left out: an `ERR_INVALID_CONFIG` naming the bad field, as a rule. */
  readonly error: Error;
}

/** A whole endpoint set, as discovery last saw it. */
export interface ResolverUpdate {
  /** Every endpoint currently known; an update replaces the previous set. */
  readonly endpoints: readonly Endpoint[];
  /** Where the set came from, for status and telemetry (`static`, `consul:orders`, ...). */
  readonly source: string;
  /**
   * How old the set already is when delivered, in ms (a shared watch hands a
   * new subscriber the set it has had for a while). Default 0.
   */
  readonly ageMs?: number;
  /**
   * The entries of the answer behind this set that were left out. Default
   * none. An update with no endpoints but rejected entries is an answer whose
   * every entry was invalid: the client keeps its last good set and reports
   * an error instead of emptying the set.
   */
  readonly rejected?: readonly RejectedEntry[];
}

/** Receives what a resolver finds. */
export interface ResolverListener {
  /** A new endpoint set. May be called synchronously inside `subscribe`. */
  onUpdate(update: ResolverUpdate): void;
  /**
   * Discovery failed (registry unreachable, an answer that is garbage as a
   * whole, or an answer whose every entry was rejected); the listener keeps
   * using the last set it received.
   */
  onError(error: Error): void;
  /** One entry of an answer was invalid and left out; the rest of the set is used. */
  onRejected?(entry: unknown, error: Error): void;
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
 *   calls `onError` and keeps quiet until it has a new good set. An answer
 *   whose every entry was rejected is an error too, never an empty set
 *   (`RejectedAnswerError`, or an update whose `rejected` list is the only
 *   thing in it).
 * - The returned function unsubscribes; when the last subscriber leaves, the
 *   resolver releases its timers, sockets and watches.
 */
export interface Resolver {
  /** A short description for errors and status (`static`, `consul:orders`). */
  readonly source: string;
  subscribe(listener: ResolverListener): () => void;
  /**
   * A hint that the set may be out of date (a client saw a connection
   * refused): re-resolve early if the provider can. Providers rate-limit it.
   */
  refresh?(): void;
}
