import type { Balancer, EndpointLoad, Picker } from '../balancing/balancer.js';
import type { Clock } from '../core/clock.js';
import { channels } from '../core/diagnostics.js';
import type { Endpoint } from '../core/endpoint.js';
import { everyEntryRejected, RejectedAnswerError } from '../discovery/rejected-answer.js';
import type { Resolver, ResolverListener, ResolverUpdate } from '../discovery/resolver.js';
import type { EndpointHealth, EndpointHealthFilter } from '../health/endpoint-health-filter.js';
import type { ClientEvents } from '../client/client-events.js';

/** A view of the endpoint set for status pages and tests. */
export interface EndpointsSnapshot {
  readonly service: string;
  /** Where the set came from (`static`, `consul:orders`, ...). */
  readonly source: string;
  readonly endpoints: readonly Endpoint[];
  /** Milliseconds since the set last changed; undefined before the first set arrived. */
  readonly ageMs: number | undefined;
  /**
   * The last discovery error since the last good set, if any: the registry
   * unreachable, or a {@link RejectedAnswerError} (an answer whose every
   * entry was rejected) carrying each rejected entry and why.
   */
  readonly lastError: Error | undefined;
  /** True when discovery reported an error since the set in use arrived: the set may be out of date. */
  readonly stale: boolean;
  /** Per-endpoint health from outlier detection; empty when it is off. */
  readonly health: readonly EndpointHealth[];
  /** The endpoints the balancer uses now (ejected ones left out, slow-start weights applied). */
  readonly available: readonly Endpoint[];
  /** What the balancer knows of each endpoint's load (in flight, latency estimate), where it tracks it. */
  readonly load: readonly (EndpointLoad & { readonly id: string })[];
}

/**
 * Connects a resolver to a balancer for one client: keeps the current set and
 * its picker, wakes calls that wait for the first set, and tells the
 * transports which endpoints left.
 */
export class EndpointState implements ResolverListener {
  picker: Picker | undefined = undefined;
  endpoints: readonly Endpoint[] = [];
  readonly #service: string;
  readonly #resolver: Resolver;
  readonly #balancer: Balancer;
  readonly #clock: Clock;
  readonly #onChange: (endpoints: readonly Endpoint[]) => void;
  readonly #waiters = new Set<{ wake(): void }>();
  #source: string;
  #updatedAt: number | undefined = undefined;
  #lastError: Error | undefined = undefined;
  /** When the set in use turned stale (discovery failing since); undefined while fresh. */
  #staleSince: number | undefined = undefined;
  #unsubscribe: (() => void) | undefined = undefined;
  #health: EndpointHealthFilter | undefined = undefined;
  #events: ClientEvents | undefined = undefined;

  constructor(service: string, resolver: Resolver, balancer: Balancer, clock: Clock, onChange: (endpoints: readonly Endpoint[]) => void) {
    this.#service = service;
    this.#resolver = resolver;
    this.#balancer = balancer;
    this.#clock = clock;
    this.#onChange = onChange;
    this.#source = resolver.source;
  }

  /** Puts outlier detection between discovery and the balancer (before `start`). */
  useHealth(health: EndpointHealthFilter): void {
    this.#health = health;
  }

  /** Tells the client's own hooks (`onEndpointsChanged`, `onDiscoveryError`) too (before `start`). */
  useEvents(events: ClientEvents): void {
    this.#events = events;
  }

  /** Rebuilds the picker from what health allows (outlier detection changed its mind). */
  rebuild(): void {
    this.picker = this.#balancer.update(this.#health === undefined ? this.endpoints : this.#health.available, this.endpoints);
  }

  /** True once a set (possibly empty) has arrived. */
  get resolved(): boolean {
    return this.#updatedAt !== undefined;
  }

  start(): void {
    this.#unsubscribe = this.#resolver.subscribe(this);
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#health?.close();
    for (const waiter of [...this.#waiters]) waiter.wake();
  }

  /** Registers a waiter woken by the next set; returns the function that removes it. */
  waitForUpdate(waiter: { wake(): void }): () => void {
    this.#waiters.add(waiter);
    return () => this.#waiters.delete(waiter);
  }

  onUpdate(update: ResolverUpdate): void {
    // Entries, none valid: a broken answer, not "no instances"; keep the last good set.
    if (everyEntryRejected(update.endpoints, update.rejected)) {
      this.onError(new RejectedAnswerError(update.source, update.rejected ?? []));
      return;
    }
    const previous = this.endpoints;
    const endpoints = update.endpoints;
    this.endpoints = endpoints;
    this.#health?.setEndpoints(endpoints);
    this.rebuild();
    this.#source = update.source;
    const now = this.#clock.now();
    this.#updatedAt = now - (update.ageMs ?? 0);
    if (this.#staleSince !== undefined) {
      if (channels.discoveryStale.hasSubscribers) {
        channels.discoveryStale.publish({ service: this.#service, source: update.source, stale: false, error: undefined, staleForMs: now - this.#staleSince });
      }
      this.#staleSince = undefined;
    }
    this.#lastError = undefined;
    this.#onChange(endpoints);
    const hooked = this.#events?.has('endpoints') === true;
    if (channels.endpoints.hasSubscribers || hooked) {
      const before = new Set(previous.map((e) => e.id));
      const after = new Set(endpoints.map((e) => e.id));
      const message = {
        service: this.#service,
        source: update.source,
        endpoints,
        added: endpoints.filter((e) => !before.has(e.id)),
        removed: previous.filter((e) => !after.has(e.id)),
      };
      if (channels.endpoints.hasSubscribers) channels.endpoints.publish(message);
      if (hooked) this.#events?.emit('endpoints', message);
    }
    for (const waiter of [...this.#waiters]) waiter.wake();
  }

  onError(error: Error): void {
    this.#lastError = error;
    const updatedAt = this.#updatedAt;
    // Stale means a last good set is in use while discovery fails; before any set there is nothing to be stale.
    if (updatedAt !== undefined && this.#staleSince === undefined) {
      const now = this.#clock.now();
      this.#staleSince = now;
      if (channels.discoveryStale.hasSubscribers) {
        channels.discoveryStale.publish({ service: this.#service, source: this.#source, stale: true, error, staleForMs: now - updatedAt });
      }
    }
    const hooked = this.#events?.has('discoveryError') === true;
    if (channels.discoveryError.hasSubscribers || hooked) {
      const staleForMs = updatedAt === undefined ? undefined : this.#clock.now() - updatedAt;
      const message = { service: this.#service, source: this.#source, error, staleForMs };
      if (channels.discoveryError.hasSubscribers) channels.discoveryError.publish(message);
      if (hooked) this.#events?.emit('discoveryError', message);
    }
  }

  onRejected(entry: unknown, error: Error): void {
    if (channels.discoveryRejected.hasSubscribers) {
      channels.discoveryRejected.publish({ service: this.#service, source: this.#source, entry, error });
    }
  }

  /** An attempt could not connect: the set may be out of date, so ask discovery to look again. */
  onConnectFailure(): void {
    this.#resolver.refresh?.();
  }

  snapshot(): EndpointsSnapshot {
    return Object.freeze({
      service: this.#service,
      source: this.#source,
      endpoints: this.endpoints,
      ageMs: this.#updatedAt === undefined ? undefined : this.#clock.now() - this.#updatedAt,
      lastError: this.#lastError,
      stale: this.#lastError !== undefined,
      health: this.#health?.snapshot() ?? [],
      available: this.#health === undefined ? this.endpoints : this.#health.available,
      load: this.#describeLoad(),
    });
  }

  #describeLoad(): (EndpointLoad & { readonly id: string })[] {
    const describe = this.#balancer.describe;
    if (describe === undefined) return [];
    const loads: (EndpointLoad & { readonly id: string })[] = [];
    for (const endpoint of this.endpoints) {
      const load = describe.call(this.#balancer, endpoint);
      if (load !== undefined) loads.push(Object.freeze({ id: endpoint.id, ...load }));
    }
    return loads;
  }
}
