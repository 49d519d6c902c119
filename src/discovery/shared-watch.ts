import { LRUCache } from 'lru-cache';
import type { Endpoint } from '../core/endpoint.js';
import type { Resolver, ResolverListener } from './resolver.js';

/** One entry of a registry answer that was left out of the set, and why. */
export interface RejectedEntry {
  /** The entry as the registry gave it. */
  readonly entry: unknown;
  readonly error: Error;
}

/** Where a watch source reports what it finds. */
export interface WatchSink {
  /** A complete, validated set. Replaces the previous one. */
  update(endpoints: readonly Endpoint[]): void;
  /** The registry could not be read, or its answer was unusable as a whole; the last good set stays. */
  error(error: Error): void;
  /** One entry was invalid and was left out of the set. */
  reject(entry: unknown, error: Error): void;
}

/**
 * A registry watch, shared by every client that asks for the same `key`.
 * Providers (Consul, etcd, DNS) implement this; {@link sharedResolver} turns
 * it into a {@link Resolver}.
 */
export interface WatchSource {
  /** Identity of the watch: clients with equal keys share one watch (include the registry address, service and filters). */
  readonly key: string;
  /** Shown as the endpoint set's source (`consul:orders`). */
  readonly source: string;
  /** Starts watching; returns the function that stops it and releases its timers and sockets. */
  start(sink: WatchSink): () => void;
  /** Optional: re-read the registry soon (the provider rate-limits this). */
  refresh?(): void;
}

/** Options of the process-wide discovery cache. */
export interface DiscoveryCacheOptions {
  /** Idle watches' last sets kept for a quick start of the next subscriber. Default 1000. */
  readonly maxIdle?: number;
  /** How long an idle set is kept, ms. Default 5 minutes. */
  readonly idleTtlMs?: number;
}

interface IdleEntry {
  readonly endpoints: readonly Endpoint[];
  readonly updatedAt: number;
}

/** What is known about one watch, for `discoveryCacheEntries()`. */
export interface DiscoveryCacheEntry {
  readonly key: string;
  readonly source: string;
  readonly subscribers: number;
  readonly endpoints: readonly Endpoint[] | undefined;
  /** Milliseconds since the set last changed. */
  readonly ageMs: number | undefined;
  /** True when an error came after the last good set. */
  readonly stale: boolean;
}

/** One running watch and its subscribers. */
class Watch implements WatchSink {
  readonly listeners = new Set<ResolverListener>();
  endpoints: readonly Endpoint[] | undefined;
  updatedAt: number | undefined;
  lastError: Error | undefined = undefined;
  stop: (() => void) | undefined = undefined;

  constructor(readonly source: WatchSource, seed: IdleEntry | undefined) {
    this.endpoints = seed?.endpoints;
    this.updatedAt = seed?.updatedAt;
  }

  update(endpoints: readonly Endpoint[]): void {
    this.endpoints = endpoints;
    this.updatedAt = performance.now();
    this.lastError = undefined;
    for (const listener of [...this.listeners]) listener.onUpdate({ endpoints, source: this.source.source });
  }

  error(error: Error): void {
    this.lastError = error;
    for (const listener of [...this.listeners]) listener.onError(error);
  }

  reject(entry: unknown, error: Error): void {
    for (const listener of [...this.listeners]) listener.onRejected?.(entry, error);
  }

  ageMs(): number | undefined {
    return this.updatedAt === undefined ? undefined : performance.now() - this.updatedAt;
  }
}

/**
 * The process-wide discovery cache: one running watch per key, however many
 * clients subscribe; when the last one leaves, the watch stops and its last
 * set is kept (bounded, in an LRU) so that the next client starts with it.
 */
class DiscoveryCache {
  readonly #active = new Map<string, Watch>();
  #idle: LRUCache<string, IdleEntry>;

  constructor(options: DiscoveryCacheOptions = {}) {
    this.#idle = DiscoveryCache.#newIdle(options);
  }

  static #newIdle(options: DiscoveryCacheOptions): LRUCache<string, IdleEntry> {
    return new LRUCache<string, IdleEntry>({ max: options.maxIdle ?? 1000, ttl: options.idleTtlMs ?? 300_000, ttlAutopurge: false });
  }

  configure(options: DiscoveryCacheOptions): void {
    this.#idle = DiscoveryCache.#newIdle(options);
  }

  subscribe(source: WatchSource, listener: ResolverListener): () => void {
    let watch = this.#active.get(source.key);
    if (watch === undefined) {
      watch = new Watch(source, this.#idle.get(source.key));
      this.#idle.delete(source.key);
      this.#active.set(source.key, watch);
    }
    watch.listeners.add(listener);
    if (watch.endpoints !== undefined) {
      listener.onUpdate({ endpoints: watch.endpoints, source: source.source, ageMs: watch.ageMs() ?? 0 });
    }
    if (watch.stop === undefined) watch.stop = source.start(watch);
    const current = watch;
    return () => {
      if (!current.listeners.delete(listener) || current.listeners.size > 0) return;
      this.#active.delete(source.key);
      current.stop?.();
      current.stop = undefined;
      if (current.endpoints !== undefined && current.updatedAt !== undefined) {
        this.#idle.set(source.key, { endpoints: current.endpoints, updatedAt: current.updatedAt });
      }
    };
  }

  refresh(key: string): void {
    this.#active.get(key)?.source.refresh?.();
  }

  entries(): DiscoveryCacheEntry[] {
    const entries: DiscoveryCacheEntry[] = [];
    for (const [key, watch] of this.#active) {
      entries.push({
        key, source: watch.source.source, subscribers: watch.listeners.size, endpoints: watch.endpoints,
        ageMs: watch.ageMs(), stale: watch.lastError !== undefined,
      });
    }
    return entries;
  }
}

const cache = new DiscoveryCache();

/** Sets the bounds of the idle part of the discovery cache (clears what it holds). */
export function configureDiscoveryCache(options: DiscoveryCacheOptions): void {
  cache.configure(options);
}

/** The running watches: key, source, subscriber count, set, age and staleness. */
export function discoveryCacheEntries(): DiscoveryCacheEntry[] {
  return cache.entries();
}

/** A {@link Resolver} over a shared watch: every subscriber with the same key shares one watch. */
export function sharedResolver(source: WatchSource): Resolver {
  return Object.freeze({
    source: source.source,
    subscribe: (listener: ResolverListener) => cache.subscribe(source, listener),
    refresh: () => cache.refresh(source.key),
  });
}
