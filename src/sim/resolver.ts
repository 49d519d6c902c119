import { toEndpoint, type Endpoint } from '../core/endpoint.js';
import type { Resolver, ResolverListener, ResolverUpdate } from '../discovery/resolver.js';
import type { SimBackend } from './backend.js';
import type { SimLoop } from './event-loop.js';

/**
 * Discovery of one simulated service: its endpoint set is the backends
 * currently registered. `join` and `leave` push the whole new set to every
 * subscriber, after `propagationMs` of virtual time (a registry's delay),
 * in the order the changes were made.
 */
export class SimResolver implements Resolver {
  readonly source: string;
  readonly #loop: SimLoop;
  readonly #propagationMs: number;
  /** Registered backends, in the order they joined (a deterministic set order). */
  readonly #members = new Map<string, { readonly backend: SimBackend; readonly endpoint: Endpoint }>();
  readonly #listeners = new Set<ResolverListener>();
  /** The set subscribers see (it lags the members by the propagation delay). */
  #published: ResolverUpdate;

  /** @internal Made by `Simulation.service()`. */
  constructor(service: string, loop: SimLoop, propagationMs: number) {
    this.source = `sim:${service}`;
    this.#loop = loop;
    this.#propagationMs = propagationMs;
    this.#published = Object.freeze({ endpoints: Object.freeze([]), source: this.source });
  }

  /** True when `backend` is registered (whether or not subscribers have seen it yet). */
  has(backend: SimBackend): boolean {
    return this.#members.has(backend.id);
  }

  /** The endpoints subscribers see now. */
  get endpoints(): readonly Endpoint[] {
    return this.#published.endpoints;
  }

  /** @internal Registers the service's first backends and publishes them at once (no propagation delay). */
  seed(backends: readonly SimBackend[]): void {
    for (const backend of backends) this.#members.set(backend.id, { backend, endpoint: toEndpoint(backend.endpoint, `${this.source}.endpoint`) });
    this.#publish(this.#snapshot());
  }

  /** Registers `backend`; a no-op when it is registered already. */
  join(backend: SimBackend): void {
    if (this.#members.has(backend.id)) return;
    this.#members.set(backend.id, { backend, endpoint: toEndpoint(backend.endpoint, `${this.source}.endpoint`) });
    this.#changed();
  }

  /** Deregisters `backend`; a no-op when it is not registered. */
  leave(backend: SimBackend): void {
    if (this.#members.delete(backend.id)) this.#changed();
  }

  subscribe(listener: ResolverListener): () => void {
    this.#listeners.add(listener);
    listener.onUpdate(this.#published);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #snapshot(): ResolverUpdate {
    return Object.freeze({
      endpoints: Object.freeze([...this.#members.values()].map((member) => member.endpoint)),
      source: this.source,
    });
  }

  #changed(): void {
    const update = this.#snapshot();
    if (this.#propagationMs === 0) this.#publish(update);
    else this.#loop.after(this.#propagationMs, () => this.#publish(update));
  }

  #publish(update: ResolverUpdate): void {
    this.#published = update;
    for (const listener of [...this.#listeners]) listener.onUpdate(update);
  }
}
