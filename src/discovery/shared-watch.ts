import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../core/clock.js';
import { parseDurationOrInfinity, type Duration } from '../core/duration.js';
import { checkOptions, readNumber } from '../core/options.js';
import type { Endpoint } from '../core/endpoint.js';
import { fingerprint } from './fingerprint.js';
import type { RejectedEntry, Resolver, ResolverListener } from './resolver.js';

export type { RejectedEntry } from './resolver.js';

/** Where a watch source reports what it finds. */
export interface WatchSink {
  /**
   * A complete, validated set. Replaces the previous one. `rejected` lists
   * the entries of the same answer that were left out (default none); they
   * are reported one by one through `reject`. An answer whose every entry was
   * rejected is not an update: report it with `error(new RejectedAnswerError(...))`.
   */
  update(endpoints: readonly Endpoint[], rejected?: readonly RejectedEntry[]): void;
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
  /**
   * Credentials and TLS material the watch reads the registry with (tokens,
   * passwords, certificates, keys). Default none. The cache adds their
   * SHA-256 fingerprint to `key`, so clients that differ only in them never
   * share a watch; the secrets themselves never appear in a key.
   */
  readonly credentials?: unknown;
  /** Clock for the set's age and the idle cache's expiry. Default the system clock. */
  readonly clock?: Clock;
  /** Starts watching; returns the function that stops it and releases its timers and sockets. */
  start(sink: WatchSink): () => void;
  /** Optional: re-read the registry soon (the provider rate-limits this). */
  refresh?(): void;
}

/** Options of the process-wide discovery cache. */
export interface DiscoveryCacheOptions {
  /** Idle watches' last sets kept for a quick start of the next subscriber (at least 1). Default 1000. */
  readonly maxIdle?: number;
  /** How long an idle set is kept: ms, a duration string (`'5m'`) or `Infinity`. Default 5 minutes. */
  readonly idleTtlMs?: Duration;
}

interface IdleEntry {
  readonly endpoints: readonly Endpoint[];
  readonly rejected: readonly RejectedEntry[];
  readonly updatedAt: number;
  /** When the last subscriber left, on `clock`. */
  readonly idleSince: number;
  readonly clock: Clock;
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

const NO_REJECTED: readonly RejectedEntry[] = Object.freeze([]);

/** The key a source's watch is cached under: its own key, plus the fingerprint of its credentials. */
export function watchKey(source: WatchSource): string {
  return source.credentials === undefined ? source.key : `${source.key}|credentials#${fingerprint(source.credentials)}`;
}

/** One running watch and its subscribers. */
class Watch implements WatchSink {
  readonly listeners = new Set<ResolverListener>();
  readonly clock: Clock;
  endpoints: readonly Endpoint[] | undefined;
  rejected: readonly RejectedEntry[];
  updatedAt: number | undefined;
  lastError: Error | undefined = undefined;
  stop: (() => void) | undefined = undefined;

  constructor(readonly source: WatchSource, seed: IdleEntry | undefined) {
    this.clock = source.clock ?? systemClock;
    this.endpoints = seed?.endpoints;
    this.rejected = seed?.rejected ?? NO_REJECTED;
    this.updatedAt = seed?.updatedAt;
  }

  update(endpoints: readonly Endpoint[], rejected: readonly RejectedEntry[] = NO_REJECTED): void {
    this.endpoints = endpoints;
    this.rejected = rejected;
    this.updatedAt = this.clock.now();
    this.lastError = undefined;
    const update = rejected.length === 0 ? { endpoints, source: this.source.source } : { endpoints, source: this.source.source, rejected };
    for (const listener of [...this.listeners]) listener.onUpdate(update);
  }

  error(error: Error): void {
    this.lastError = error;
    for (const listener of [...this.listeners]) listener.onError(error);
  }

  reject(entry: unknown, error: Error): void {
    for (const listener of [...this.listeners]) listener.onRejected?.(entry, error);
  }

  ageMs(): number | undefined {
    return this.updatedAt === undefined ? undefined : this.clock.now() - this.updatedAt;
  }
}

/**
 * The process-wide discovery cache: one running watch per key, however many
 * clients subscribe; when the last one leaves, the watch stops and its last
 * set is kept (bounded, in an LRU) so that the next client starts with it.
 */
class DiscoveryCache {
  readonly #active = new Map<string, Watch>();
  #idle!: LRUCache<string, IdleEntry>;
  #idleTtlMs!: number;

  constructor(options: DiscoveryCacheOptions = {}) {
    this.configure(options);
  }

  configure(options: DiscoveryCacheOptions): void {
    const checked = checkOptions(options, 'configureDiscoveryCache', ['maxIdle', 'idleTtlMs']);
    const maxIdle = readNumber(checked['maxIdle'], 'configureDiscoveryCache.maxIdle', 1000, { min: 1, integer: true });
    const idleTtl = checked['idleTtlMs'];
    // Expiry is checked on the watch's own clock when a set is taken (the LRU only bounds the count).
    this.#idleTtlMs = idleTtl === undefined ? 300_000 : parseDurationOrInfinity(idleTtl, 'configureDiscoveryCache.idleTtlMs');
    this.#idle = new LRUCache<string, IdleEntry>({ max: maxIdle });
  }

  /** The idle set kept for `key`, unless it expired or was kept on another clock. */
  #takeIdle(key: string, clock: Clock): IdleEntry | undefined {
    const entry = this.#idle.get(key);
    this.#idle.delete(key);
    if (entry === undefined || entry.clock !== clock || clock.now() - entry.idleSince > this.#idleTtlMs) return undefined;
    return entry;
  }

  subscribe(source: WatchSource, listener: ResolverListener): () => void {
    const key = watchKey(source);
    let watch = this.#active.get(key);
    if (watch === undefined) {
      watch = new Watch(source, this.#takeIdle(key, source.clock ?? systemClock));
      this.#active.set(key, watch);
    }
    watch.listeners.add(listener);
    if (watch.endpoints !== undefined) {
      const { endpoints, rejected } = watch;
      const ageMs = watch.ageMs() ?? 0;
      listener.onUpdate(rejected.length === 0 ? { endpoints, source: source.source, ageMs } : { endpoints, source: source.source, ageMs, rejected });
    }
    // A late subscriber learns that the shared set is stale, as the first ones did.
    if (watch.lastError !== undefined) listener.onError(watch.lastError);
    if (watch.stop === undefined) watch.stop = source.start(watch);
    const current = watch;
    return () => {
      if (!current.listeners.delete(listener) || current.listeners.size > 0) return;
      this.#active.delete(key);
      current.stop?.();
      current.stop = undefined;
      if (current.endpoints !== undefined && current.updatedAt !== undefined) {
        this.#idle.set(key, {
          endpoints: current.endpoints, rejected: current.rejected, updatedAt: current.updatedAt,
          idleSince: current.clock.now(), clock: current.clock,
        });
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

/** Sets the bounds of the idle part of the discovery cache (clears what it holds); `ERR_INVALID_CONFIG` for a bad or unknown option. */
export function configureDiscoveryCache(options: DiscoveryCacheOptions): void {
  cache.configure(options);
}

/** The running watches: key, source, subscriber count, set, age and staleness. */
export function discoveryCacheEntries(): DiscoveryCacheEntry[] {
  return cache.entries();
}

/**
 * A {@link Resolver} over a shared watch: every subscriber with the same key
 * (and the same credentials, see {@link WatchSource.credentials}) shares one watch.
 */
export function sharedResolver(source: WatchSource): Resolver {
  const key = watchKey(source);
  return Object.freeze({
    source: source.source,
    subscribe: (listener: ResolverListener) => cache.subscribe(source, listener),
    refresh: () => cache.refresh(key),
  });
}
