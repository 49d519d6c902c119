import { Range, type Etcd3, type IDuplexStream, type IKeyValue, type IWatchRequest, type IWatchResponse } from 'etcd3';
import { fullJitterBackoff } from '../core/backoff.js';
import type { TimerHandle } from '../core/clock.js';
import type { Endpoint } from '../core/endpoint.js';
import { RejectedAnswerError } from '../discovery/rejected-answer.js';
import type { RejectedEntry } from '../discovery/resolver.js';
import type { WatchSink, WatchSource } from '../discovery/shared-watch.js';
import { connectEtcd } from './connect.js';
import { parseEtcdValue } from './entry.js';
import type { EtcdSettings } from './options.js';
import { clockId } from '../discovery/clock-id.js';

/** Why a sync ended: the registry failed (back off, report) or compacted (re-sync at once). */
type Ending = { readonly kind: 'failed'; readonly error: Error } | { readonly kind: 'compacted' };

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * One running watch of a prefix: a range read, then a watch from the read's
 * revision + 1 that applies puts and deletes, pushing the whole set after
 * each batch. Any failure tears the connection down and starts over (fresh
 * client, fresh read) after a full-jitter backoff; a compaction re-syncs at once.
 */
class PrefixWatch {
  readonly #settings: EtcdSettings;
  readonly #sink: WatchSink;
  readonly #range: Range;
  /** key -> endpoint, for the entries that parsed. */
  readonly #entries = new Map<string, Endpoint>();
  /** key -> the rejected entry and the mod revision it was reported at, so a re-sync does not report it again. */
  readonly #rejected = new Map<string, { readonly revision: string; readonly rejected: RejectedEntry }>();
  #client: Etcd3 | undefined = undefined;
  #stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined = undefined;
  #timer: TimerHandle | undefined = undefined;
  #generation = 0;
  #failures = 0;
  #stopped = false;
  /** Signature of the last state passed on: a set, or an answer of rejected entries only. */
  #pushed: string | undefined = undefined;
  /** A sync failed since then: the next state is passed on even if it is the same. */
  #failing = false;
  readonly #label: string;

  readonly #hooks: EtcdWatchHooks;

  constructor(settings: EtcdSettings, sink: WatchSink, hooks: EtcdWatchHooks) {
    this.#settings = settings;
    this.#hooks = hooks;
    this.#sink = sink;
    this.#range = Range.prefix(settings.prefix);
    this.#label = `etcd:${settings.service}`;
  }

  start(): void {
    void this.#sync();
  }

  stop(): void {
    this.#stopped = true;
    this.#generation++;
    if (this.#timer !== undefined) this.#settings.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#disconnect();
  }

  async #sync(): Promise<void> {
    const generation = ++this.#generation;
    const live = (): boolean => generation === this.#generation;
    try {
      const client = (this.#client ??= connectEtcd(this.#settings));
      const answer = await client.kv.range({ key: this.#range.start, range_end: this.#range.end });
      if (!live()) return;
      this.#entries.clear();
      const seen = new Set<string>();
      for (const kv of answer.kvs) {
        seen.add(kv.key.toString());
        this.#apply(kv);
      }
      for (const key of this.#rejected.keys()) if (!seen.has(key)) this.#rejected.delete(key);
      this.#push();
      await this.#hooks.afterRead?.(answer.header.revision);
      if (!live()) return;
      const stream = await client.watchClient.watch();
      if (!live()) {
        stream.on('error', () => {}); // the cancel surfaces as a CANCELLED error
        stream.cancel();
        return;
      }
      this.#stream = stream;
      stream.on('data', (response) => {
        if (live()) this.#onResponse(response);
      });
      stream.on('error', (error) => {
        if (live()) this.#end({ kind: 'failed', error });
      });
      stream.on('end', () => {
        if (live()) this.#end({ kind: 'failed', error: new Error('etcd ended the watch stream') });
      });
      const startRevision = (BigInt(answer.header.revision) + 1n).toString();
      stream.write({ create_request: { key: this.#range.start, range_end: this.#range.end, start_revision: startRevision } });
    } catch (error) {
      if (live()) this.#end({ kind: 'failed', error: asError(error) });
    }
  }

  #onResponse(response: IWatchResponse): void {
    if (response.canceled) {
      // A start revision older than the last compaction: those changes are gone, read the whole prefix again.
      if (response.compact_revision !== undefined && response.compact_revision !== '0') this.#end({ kind: 'compacted' });
      else this.#end({ kind: 'failed', error: new Error(`etcd canceled the watch: ${response.cancel_reason || 'no reason given'}`) });
      return;
    }
    if (response.created) {
      this.#failures = 0;
      return;
    }
    for (const event of response.events) {
      if (event.type === 'Put') this.#apply(event.kv);
      else {
        const key = event.kv.key.toString();
        this.#entries.delete(key);
        this.#rejected.delete(key);
      }
    }
    this.#push();
  }

  /** Parses one key; a bad value is reported (once per revision) and left out, the rest survive. */
  #apply(kv: IKeyValue): void {
    const key = kv.key.toString();
    const value = kv.value.toString('utf8');
    try {
      this.#entries.set(key, parseEtcdValue(key, value));
      this.#rejected.delete(key);
    } catch (error) {
      this.#entries.delete(key);
      if (this.#rejected.get(key)?.revision === kv.mod_revision) return;
      const rejected = { entry: { key, value }, error: asError(error) };
      this.#rejected.set(key, { revision: kv.mod_revision, rejected });
      this.#sink.reject(rejected.entry, rejected.error);
    }
  }

  /**
   * Pushes the complete set (in key order, one endpoint per host:port) when
   * it changed or follows a failure. Keys under the prefix, none valid: an
   * error that keeps the last good set, not an empty set.
   */
  #push(): void {
    const byId = new Map<string, Endpoint>();
    for (const key of [...this.#entries.keys()].sort()) {
      const endpoint = this.#entries.get(key) as Endpoint;
      if (!byId.has(endpoint.id)) byId.set(endpoint.id, endpoint);
    }
    const endpoints = Object.freeze([...byId.values()]);
    const rejected = Object.freeze([...this.#rejected].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r.rejected));
    const everyRejected = endpoints.length === 0 && rejected.length > 0;
    const signature = everyRejected ? `rejected:${JSON.stringify(rejected.map((r) => r.entry))}` : JSON.stringify(endpoints);
    if (signature === this.#pushed && !this.#failing) return;
    this.#pushed = signature;
    this.#failing = false;
    if (everyRejected) this.#sink.error(new RejectedAnswerError(this.#label, rejected));
    else this.#sink.update(endpoints, rejected);
  }

  #end(ending: Ending): void {
    this.#generation++;
    if (ending.kind === 'compacted') {
      this.#cancelStream();
      void this.#sync();
      return;
    }
    this.#disconnect();
    this.#failures++;
    this.#failing = true;
    this.#sink.error(ending.error);
    const delay = fullJitterBackoff(this.#failures, this.#settings.backoffBaseMs, this.#settings.backoffCapMs, this.#settings.clock.random());
    this.#timer = this.#settings.clock.setTimeout(() => {
      this.#timer = undefined;
      if (!this.#stopped) void this.#sync();
    }, delay);
  }

  #cancelStream(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream === undefined) return;
    stream.on('error', () => {}); // the cancel itself surfaces as a CANCELLED error
    stream.cancel();
  }

  #disconnect(): void {
    this.#cancelStream();
    const client = this.#client;
    this.#client = undefined;
    client?.close();
  }
}

/**
 * @internal Test seam: runs between the range read and the watch creation, so
 * a test can make etcd compact past the read revision at that exact moment.
 */
export interface EtcdWatchHooks {
  readonly afterRead?: (revision: string) => Promise<void>;
}

/**
 * The {@link WatchSource} of one etcd prefix; clients with equal options
 * (service, hosts, prefix, user and password, TLS material, timeouts,
 * backoff, clock) share one watch.
 */
export function etcdWatchSource(settings: EtcdSettings, hooks: EtcdWatchHooks = {}): WatchSource {
  const { service, hosts, prefix, auth, credentials, requestTimeoutMs, backoffBaseMs, backoffCapMs, clock } = settings;
  return Object.freeze({
    // JSON keeps every field apart: a ',' or '|' inside a prefix or user name cannot make two watches one.
    key: JSON.stringify([
      'etcd', service, hosts, prefix, auth?.username ?? null, credentials === undefined ? 'plain' : 'tls',
      requestTimeoutMs, backoffBaseMs, backoffCapMs, `clock#${clockId(clock)}`,
    ]),
    // The password and TLS material: the cache adds their fingerprint to the key, so clients with other credentials never share this watch.
    ...(auth === undefined && credentials === undefined ? {} : { credentials: { auth, credentials } }),
    clock,
    source: `etcd:${settings.service}`,
    start(sink: WatchSink): () => void {
      const watch = new PrefixWatch(settings, sink, hooks);
      watch.start();
      return () => watch.stop();
    },
  });
}
