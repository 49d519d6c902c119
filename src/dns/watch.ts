import { promises as dnsPromises } from 'node:dns';
import { fullJitterBackoff } from '../core/backoff.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Endpoint } from '../core/endpoint.js';
import { RejectedAnswerError } from '../discovery/rejected-answer.js';
import type { WatchSink, WatchSource } from '../discovery/shared-watch.js';
import { lookup, type DnsAnswer } from './lookup.js';
import type { DnsSettings } from './options.js';

function setKey(endpoints: readonly Endpoint[]): string {
  return endpoints.map((e) => `${e.id}/${e.weight}/${e.metadata['target'] ?? ''}`).join(',');
}

function rejectKey(entry: unknown, error: Error): string {
  return `${JSON.stringify(entry)}|${error.message}`;
}

/** One running resolve loop: resolves, publishes, schedules the next resolution. */
class DnsLoop {
  readonly #settings: DnsSettings;
  readonly #sink: WatchSink;
  readonly #resolver: dnsPromises.Resolver;
  #stopped = false;
  #inFlight = false;
  #timer: TimerHandle | undefined = undefined;
  #timerDueAt = Number.POSITIVE_INFINITY;
  #lastStartedAt = Number.NEGATIVE_INFINITY;
  #failures = 0;
  /** What was last passed on: a set, or an answer of rejected entries only. */
  #published: string | undefined = undefined;
  #rejected = new Set<string>();

  readonly #label: string;

  constructor(settings: DnsSettings, sink: WatchSink) {
    this.#settings = settings;
    this.#sink = sink;
    this.#label = `dns:${settings.name}`;
    this.#resolver = new dnsPromises.Resolver({ timeout: settings.timeoutMs, tries: settings.tries });
    if (settings.servers !== undefined) this.#resolver.setServers([...settings.servers]);
  }

  start(): void {
    void this.#resolve();
  }

  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
    // Fails queries in flight with ECANCELLED; #resolve ignores results after stop.
    this.#resolver.cancel();
  }

  /** A client saw a connection refused: resolve again, at most once per ttlFloor, and not while backing off after errors. */
  refresh(): void {
    if (this.#stopped || this.#inFlight || this.#failures > 0) return;
    const earliest = this.#lastStartedAt + this.#settings.ttlFloorMs;
    const now = this.#settings.clock.now();
    if (earliest <= now) void this.#resolve();
    else if (earliest < this.#timerDueAt) this.#schedule(earliest - now);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#settings.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDueAt = Number.POSITIVE_INFINITY;
  }

  #schedule(delayMs: number): void {
    this.#clearTimer();
    const clock = this.#settings.clock;
    this.#timerDueAt = clock.now() + delayMs;
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerDueAt = Number.POSITIVE_INFINITY;
      void this.#resolve();
    }, delayMs);
  }

  async #resolve(): Promise<void> {
    if (this.#stopped || this.#inFlight) return;
    this.#inFlight = true;
    this.#clearTimer();
    const { clock, ttlFloorMs, ttlCapMs } = this.#settings;
    this.#lastStartedAt = clock.now();
    let answer: DnsAnswer;
    try {
      answer = await lookup(this.#resolver, this.#settings);
    } catch (error) {
      this.#inFlight = false;
      if (this.#stopped) return;
      this.#failures += 1;
      const { backoffBaseMs, backoffCapMs } = this.#settings;
      // Jitter above the floor, not clipped by it: loops that failed together (a server restart) must not retry in step.
      this.#schedule(ttlFloorMs + fullJitterBackoff(this.#failures, backoffBaseMs, backoffCapMs, clock.random()));
      this.#sink.error(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#inFlight = false;
    if (this.#stopped) return;
    const recovered = this.#failures > 0;
    this.#failures = 0;
    // An empty answer carries no TTL (node:dns does not expose the negative-caching TTL): look again after ttlFloor.
    const ttlMs = answer.ttlSeconds === undefined ? ttlFloorMs : answer.ttlSeconds * 1000;
    this.#schedule(Math.min(ttlCapMs, Math.max(ttlFloorMs, ttlMs)));
    this.#publish(answer, recovered);
  }

  #publish(answer: DnsAnswer, recovered: boolean): void {
    // The same garbage comes back on every resolution: report an entry once, until it disappears and returns.
    const rejected = new Set<string>();
    for (const { entry, error } of answer.rejected) {
      const key = rejectKey(entry, error);
      if (!this.#rejected.has(key) && !rejected.has(key)) this.#sink.reject(entry, error);
      rejected.add(key);
    }
    this.#rejected = rejected;
    // Records, none valid: a broken answer, not "no instances"; the last good set stays. Reported once until it changes.
    if (answer.endpoints.length === 0 && answer.rejected.length > 0) {
      const key = `rejected:${[...rejected].join(',')}`;
      if (key === this.#published && !recovered) return;
      this.#published = key;
      this.#sink.error(new RejectedAnswerError(this.#label, answer.rejected));
      return;
    }
    // Unchanged sets are not republished (the set's age stays "since it changed"), except to end staleness after errors.
    const key = setKey(answer.endpoints);
    if (key === this.#published && !recovered) return;
    this.#published = key;
    this.#sink.update(Object.freeze([...answer.endpoints]), answer.rejected);
  }
}

/** The {@link WatchSource} behind {@link dns}: one resolve loop per started watch. */
export class DnsWatch implements WatchSource {
  readonly key: string;
  readonly source: string;
  readonly clock: Clock;
  readonly #settings: DnsSettings;
  #loop: DnsLoop | undefined = undefined;

  constructor(settings: DnsSettings, key: string) {
    this.#settings = settings;
    this.key = key;
    this.source = `dns:${settings.name}`;
    this.clock = settings.clock;
  }

  start(sink: WatchSink): () => void {
    const loop = new DnsLoop(this.#settings, sink);
    this.#loop = loop;
    loop.start();
    return () => {
      loop.stop();
      if (this.#loop === loop) this.#loop = undefined;
    };
  }

  refresh(): void {
    this.#loop?.refresh();
  }
}
