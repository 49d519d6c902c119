import type { Clock } from '../core/clock.js';
import { parseDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readFunction } from '../core/options.js';
import { readClock } from '../discovery/read-clock.js';

/** Anything with an async `close()`: meshkit clients, database pools, ... */
export interface Closeable {
  close(): Promise<void> | void;
}

/** Options of {@link ServerLifecycle}. */
export interface ServerLifecycleOptions {
  /**
   * How long requests in flight may take to finish once the server stops
   * accepting; after it, every connection still open is destroyed (upgraded
   * WebSocket and CONNECT connections included, which get this long to finish
   * too) and the drain waits at most 1 s more for the server to close, so
   * `close()` always ends. Default `'10s'`
   * (keep it under your orchestrator's kill grace period, 30 s in Kubernetes).
   * A request whose caller hung up still counts until its handler ends the
   * response (the clients it uses are closed only after the drain), at most
   * this long after the hang-up.
   */
  readonly drainTimeout?: Duration;
  /**
   * After deregistering, how long the server keeps accepting so that callers'
   * discovery sees the change before connections are refused (Consul blocking
   * queries answer at once; meshkit re-polls at most every 250 ms). Only spent
   * when a registration was removed. Default `'1s'`.
   */
  readonly propagationDelay?: Duration;
  /** Bound on the registry's deregistration call; past it, the check or lease expiry removes the instance. Default `'5s'`. */
  readonly deregisterTimeout?: Duration;
  /** Closed last, after the drain (meshkit clients the handlers use). Default none; add more with `addClient()`. */
  readonly clients?: readonly Closeable[];
  /** Signals that start the shutdown sequence once signal handling is installed. Default `['SIGTERM', 'SIGINT']`; `[]` for none. */
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * Runs after a signal's shutdown sequence. Default: re-raise the signal with
   * meshkit's handler removed, so the process ends as it would have without
   * meshkit (as `register()` does).
   */
  readonly onShutdown?: (signal: NodeJS.Signals) => Promise<void> | void;
  /** Time for the drain, propagation and deregistration bounds. Default the system clock. */
  readonly clock?: Clock;
}

/** Validated {@link ServerLifecycleOptions}, durations in ms. */
export interface ServerLifecycleSettings {
  readonly drainTimeoutMs: number;
  readonly propagationDelayMs: number;
  readonly deregisterTimeoutMs: number;
  readonly clients: readonly Closeable[];
  readonly signals: readonly NodeJS.Signals[];
  readonly onShutdown: ((signal: NodeJS.Signals) => Promise<void> | void) | undefined;
  readonly clock: Clock;
}

const KNOWN = ['drainTimeout', 'propagationDelay', 'deregisterTimeout', 'clients', 'signals', 'onShutdown', 'clock'];

/**
 * Validates lifecycle options; errors are `ERR_INVALID_CONFIG` naming
 * `<option>.<name>`. Durations are bounded by Node's timer limit
 * (2^31 - 1 ms, about 24.8 days), as every duration that reaches a timer.
 */
export function resolveLifecycleOptions(options: ServerLifecycleOptions | undefined, option = 'lifecycle'): ServerLifecycleSettings {
  const o = checkOptions(options === undefined ? {} : options, option, KNOWN) as ServerLifecycleOptions;
  const clients = o.clients ?? [];
  if (!Array.isArray(clients)) throw invalidConfig(`${option}.clients`, 'an array of objects with close()', clients);
  clients.forEach((c: unknown, i) => {
    if (c === null || typeof c !== 'object' || typeof (c as Closeable).close !== 'function') {
      throw invalidConfig(`${option}.clients[${i}]`, 'an object with close()', c);
    }
  });
  const signals = o.signals ?? ['SIGTERM', 'SIGINT'];
  if (!Array.isArray(signals) || signals.some((s) => typeof s !== 'string' || !s.startsWith('SIG'))) {
    throw invalidConfig(`${option}.signals`, "an array of signal names such as 'SIGTERM'", signals);
  }
  const onShutdown = readFunction<(signal: NodeJS.Signals) => Promise<void> | void>(o.onShutdown, `${option}.onShutdown`);
  return {
    drainTimeoutMs: parseDuration(o.drainTimeout ?? '10s', `${option}.drainTimeout`),
    propagationDelayMs: parseDuration(o.propagationDelay ?? '1s', `${option}.propagationDelay`),
    deregisterTimeoutMs: parseDuration(o.deregisterTimeout ?? '5s', `${option}.deregisterTimeout`),
    clients: [...clients],
    signals: [...signals],
    onShutdown,
    clock: readClock(o.clock, `${option}.clock`),
  };
}
