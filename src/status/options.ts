import type { ClientSnapshot } from '../client/snapshot.js';
import type { Clock } from '../core/clock.js';
import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readNumber } from '../core/options.js';
import { readClock } from '../discovery/read-clock.js';
import { normalHostName } from './allowed-host.js';

/** Anything with a `snapshot()`: a meshkit `Client`, or your own wrapper of one. */
export interface SnapshotSource {
  snapshot(): ClientSnapshot;
}

/** Options of {@link statusHandler}. Every one is optional. */
export interface StatusHandlerOptions {
  /**
   * The clients to show: a list, or a function returning one on each request.
   * Default every client built and not yet closed in this process (`snapshotAll()`).
   */
  readonly clients?: readonly SnapshotSource[] | (() => readonly SnapshotSource[]);
  /**
   * The path the handler is mounted under, when it sees full URLs (`http.createServer`,
   * Fastify's `request.raw`): `'/status'` serves `/status/` and `/status/snapshot.json`.
   * Leave it out under Express's `app.use('/status', handler)`, which strips the
   * prefix itself. Default `''` (the handler owns the whole path space).
   */
  readonly basePath?: string;
  /** The page's title and heading. Default `'meshkit status'`. */
  readonly title?: string;
  /** How often the page polls `snapshot.json`. Default `'1s'`. */
  readonly refreshInterval?: Duration;
  /**
   * How often the handler samples every endpoint's latency estimate into its
   * history while clients exist (one unref'd timer), or `false` to sample only
   * when `snapshot.json` is requested. Default `'1s'`.
   */
  readonly sampleInterval?: Duration | false;
  /** Latency samples kept per endpoint, an integer from 2 to 1000. Default 60 (a minute at the default interval). */
  readonly historySize?: number;
  /**
   * Endpoints shown per client, an integer >= 1; beyond it the response lists
   * unavailable endpoints first, then healthy ones in order, and says how many
   * it left out. Default 500.
   */
  readonly maxEndpoints?: number;
  /** Clients shown, an integer >= 1; later ones are left out and counted. Default 100. */
  readonly maxClients?: number;
  /** Time for the sampler's timer and the wall-clock stamps of samples and documents (its `wallNow`). Default the system clock. */
  readonly clock?: Clock;
  /**
   * Host names, besides IP literals, `localhost` and `*.localhost`, that a
   * request may use in `Host` (any port, any case, a trailing dot ignored);
   * any other name gets 421. This is what keeps a web page in a browser on
   * the same machine from reading the page through DNS rebinding. List the
   * names the page is really reached by (`'status.internal'`, a reverse
   * proxy's name). Default `[]`.
   */
  readonly allowedHosts?: readonly string[];
}

/** Resolved {@link StatusHandlerOptions}. */
export interface StatusHandlerSettings {
  readonly basePath: string;
  readonly title: string;
  readonly refreshMs: number;
  /** Undefined when sampling happens on request only. */
  readonly sampleIntervalMs: number | undefined;
  readonly historySize: number;
  readonly maxEndpoints: number;
  readonly maxClients: number;
  readonly clock: Clock;
  /** `allowedHosts`, lower-cased, trailing dots removed. */
  readonly allowedHosts: ReadonlySet<string>;
}

/** Defaults of {@link StatusHandlerOptions}. */
export const DEFAULT_STATUS_HANDLER = Object.freeze({
  basePath: '',
  title: 'meshkit status',
  refreshMs: 1000,
  sampleIntervalMs: 1000,
  historySize: 60,
  maxEndpoints: 500,
  maxClients: 100,
  allowedHosts: Object.freeze([] as string[]),
});

function integer(value: unknown, option: string, min: number, max: number, fallback: number): number {
  return readNumber(value, `status.${option}`, fallback, { min, max, integer: true });
}

/** A timer interval: at least 10 ms (a page or sampler spinning faster helps nobody), at most a day. */
function interval(value: unknown, option: string, fallback: number): number {
  const ms = parsePositiveDuration(value ?? fallback, `status.${option}`);
  if (ms < 10 || ms > 86_400_000) throw invalidConfig(`status.${option}`, 'a duration from 10 ms to 1 day', value);
  return ms;
}

const STATUS_HANDLER_KEYS: readonly (keyof StatusHandlerOptions)[] = [
  'clients', 'basePath', 'title', 'refreshInterval', 'sampleInterval', 'historySize', 'maxEndpoints', 'maxClients', 'clock',
  'allowedHosts',
];

// A DNS name (letters, digits, `-`, `_` in dot-separated labels), at most 253 characters, a trailing dot allowed.
const HOST_NAME = /^(?=.{1,254}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** `allowedHosts` as a set of normalised names; refuses anything but an array of host names (no scheme, port or path). */
function allowedHosts(value: unknown): ReadonlySet<string> {
  const list = value ?? DEFAULT_STATUS_HANDLER.allowedHosts;
  if (!Array.isArray(list) || !list.every((name) => typeof name === 'string' && HOST_NAME.test(name))) {
    throw invalidConfig('status.allowedHosts', "an array of host names such as 'status.internal' (no scheme, port or path)", value);
  }
  return new Set((list as string[]).map(normalHostName));
}

/** Validates {@link StatusHandlerOptions}; errors name `status.<option>` (unknown keys included). */
export function resolveStatusHandler(options: StatusHandlerOptions): StatusHandlerSettings {
  const o = checkOptions(options, 'status', STATUS_HANDLER_KEYS);
  const d = DEFAULT_STATUS_HANDLER;
  const clients = o['clients'];
  if (clients !== undefined && typeof clients !== 'function' && !Array.isArray(clients)) {
    throw invalidConfig('status.clients', 'a list of clients or a function returning one', clients);
  }
  const basePath = o['basePath'] ?? d.basePath;
  if (typeof basePath !== 'string' || !/^(\/[^/?#\s]+)*$/.test(basePath)) {
    throw invalidConfig('status.basePath', "'' or a path such as '/status' (no trailing slash)", basePath);
  }
  const title = o['title'] ?? d.title;
  if (typeof title !== 'string' || title.length > 200) throw invalidConfig('status.title', 'a string of at most 200 characters', title);
  const sample = o['sampleInterval'];
  return Object.freeze({
    basePath,
    title,
    refreshMs: interval(o['refreshInterval'], 'refreshInterval', d.refreshMs),
    sampleIntervalMs: sample === false ? undefined : interval(sample, 'sampleInterval', d.sampleIntervalMs),
    historySize: integer(o['historySize'], 'historySize', 2, 1000, d.historySize),
    maxEndpoints: integer(o['maxEndpoints'], 'maxEndpoints', 1, 100_000, d.maxEndpoints),
    maxClients: integer(o['maxClients'], 'maxClients', 1, 10_000, d.maxClients),
    clock: readClock(o['clock'], 'status.clock'),
    allowedHosts: allowedHosts(o['allowedHosts']),
  });
}
