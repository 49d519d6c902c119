import { Client as UndiciClient } from 'undici';
import type { Clock } from '../core/clock.js';
import type { Endpoint } from '../core/endpoint.js';
import { TimerEntry, TimerQueue } from '../core/timer-queue.js';
import { PLAIN_HTTP, type HttpConnection, type TransportTlsOptions } from '../transports/connection.js';
import { warnUnverifiedTls } from '../core/tls-warning.js';
import { identityConnector } from '../security/client-connector.js';
import { handshakesOf, type HandshakeCounters } from '../security/handshake-counters.js';
import { isExpectedStatus, type HealthCheckSettings } from './active-health-check-options.js';

/**
 * Performs one probe. The checker owns scheduling, timeouts and thresholds;
 * a prober only asks one endpoint once. Tests inject their own.
 */
export interface HealthProber {
  /** Resolves true when the endpoint answered as healthy; false or a rejection is a failure. Must stop when `signal` aborts. */
  probe(endpoint: Endpoint, signal: AbortSignal): Promise<boolean>;
  /** The endpoint left the set: release its connection. */
  forget(id: string): void;
  /** Releases every connection; resolves once they are closed. */
  close(): Promise<void>;
}

/** One endpoint's probing state, as `ActiveHealthChecker#snapshot()` shows it. */
export interface ProbeStatus {
  readonly id: string;
  /** The checker's verdict: false once `unhealthyThreshold` probes failed in a row, until `healthyThreshold` succeed. */
  readonly healthy: boolean;
  readonly consecutiveSuccesses: number;
  readonly consecutiveFailures: number;
  /** A probe is in flight now. */
  readonly probing: boolean;
  /** Probes started so far. */
  readonly probes: number;
}

const USER_AGENT = 'meshkit-health-check';

/**
 * How probes connect: the transport's scheme and TLS settings, unless the
 * health check asks for `https` itself (then its own `tls`, or else the
 * transport's, identity included). Probing an HTTPS endpoint in clear text
 * fails every probe and would take every endpoint out of rotation. With an
 * identity, probes connect with mutual TLS like calls do, so the health
 * endpoint of a service that requires client certificates can be probed.
 */
export function probeConnection(settings: HealthCheckSettings, transport: HttpConnection = PLAIN_HTTP): HttpConnection {
  if (settings.protocol !== 'https') return transport;
  const own = settings.tls as TransportTlsOptions | undefined;
  if (own === undefined) return transport.protocol === 'https' ? transport : Object.freeze({ protocol: 'https', tls: transport.tls });
  if (own.rejectUnauthorized === false) warnUnverifiedTls('healthCheck.tls.rejectUnauthorized');
  return Object.freeze({ protocol: 'https', tls: own });
}

/**
 * The default prober: `GET <path>` on undici, one dedicated single-connection
 * `Client` per endpoint (kept alive between probes when the server allows,
 * as Envoy's `reuse_connection` does), never the transport's pools: probes are
 * not calls, so no retries, no balancer feedback, no outlier counting.
 * Probes connect as the transport does (`connection`, default plain HTTP;
 * see {@link probeConnection}); with an identity, through the same mTLS
 * connector as calls (present the current leaf, trust only the roots, check
 * the peer's SPIFFE ID; an expired leaf is never presented, so the probe fails).
 */
export class UndiciProber implements HealthProber {
  readonly #settings: HealthCheckSettings;
  readonly #connection: HttpConnection;
  readonly #clients = new Map<string, UndiciClient>();
  readonly #closing = new Set<Promise<void>>();

  constructor(settings: HealthCheckSettings, connection?: HttpConnection) {
    this.#settings = settings;
    this.#connection = probeConnection(settings, connection);
  }

  async probe(endpoint: Endpoint, signal: AbortSignal): Promise<boolean> {
    const client = this.#clients.get(endpoint.id) ?? this.#open(endpoint);
    const response = await client.request({
      path: this.#settings.path,
      method: 'GET',
      headers: { 'user-agent': USER_AGENT },
      signal,
    });
    // Read the (small) body so the connection can be reused; the timeout covers it too.
    await response.body.dump();
    return isExpectedStatus(this.#settings, response.statusCode);
  }

  forget(id: string): void {
    const client = this.#clients.get(id);
    if (client === undefined) return;
    this.#clients.delete(id);
    this.#destroy(client);
  }

  async close(): Promise<void> {
    for (const client of this.#clients.values()) this.#destroy(client);
    this.#clients.clear();
    await Promise.all(this.#closing);
  }

  /** Endpoints with an open probe connection (for tests). */
  get openClients(): number {
    return this.#clients.size;
  }

  #destroy(client: UndiciClient): void {
    // Probes are disposable: a probe in flight is cut off, not awaited.
    const closing = client.destroy().catch(() => {}).finally(() => this.#closing.delete(closing));
    this.#closing.add(closing);
  }

  #open(endpoint: Endpoint): UndiciClient {
    const connection = this.#connection;
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
    const mtls = connection.identity;
    const client = new UndiciClient(`${connection.protocol}://${host}:${endpoint.port}`, {
      pipelining: 1,
      connect: mtls === undefined
        ? { timeout: this.#settings.timeoutMs, ...connection.tls }
        : identityConnector(mtls.identity, mtls.peerService, this.#settings.timeoutMs, connection.tls, handshakesOf(mtls.identity) as HandshakeCounters),
    });
    this.#clients.set(endpoint.id, client);
    return client;
  }
}

/**
 * One endpoint under watch. It is its own entry in the checker's timer queue:
 * while idle it waits for its next probe, while probing for the probe's
 * timeout, never both, so one entry (and no timer) per endpoint suffices.
 */
class Target extends TimerEntry {
  endpoint: Endpoint;
  healthy = true;
  successes = 0;
  failures = 0;
  probes = 0;
  /** Set while a probe is in flight; a completion that does not match it is stale and ignored. */
  controller: AbortController | undefined = undefined;
  readonly #due: (target: Target) => void;

  constructor(endpoint: Endpoint, due: (target: Target) => void) {
    super();
    this.endpoint = endpoint;
    this.#due = due;
  }

  onTimeout(): void {
    this.#due(this);
  }
}

/**
 * Active health checks: probes every endpoint of the current discovery set
 * on its own jittered schedule, at most one probe in flight per endpoint,
 * and reports threshold crossings (`onVerdict(endpoint, healthy)`), which
 * the client hands to the endpoint health filter (`setActiveHealth`).
 *
 * All endpoints share one `TimerQueue`, so one clock timer drives every
 * schedule and every probe timeout; there is no timer per endpoint. The next
 * probe is scheduled when the previous one ends (as in Envoy), after
 * `interval + random * jitter`; the first one at `random * jitter`.
 * Endpoints start healthy: a new endpoint stays in rotation until
 * `unhealthyThreshold` probes fail.
 */
export class ActiveHealthChecker {
  readonly #settings: HealthCheckSettings;
  readonly #clock: Clock;
  readonly #onVerdict: (endpoint: Endpoint, healthy: boolean) => void;
  readonly #prober: HealthProber;
  readonly #timers: TimerQueue;
  readonly #targets = new Map<string, Target>();
  readonly #due = (target: Target): void => this.#onDue(target);
  #stopped = false;

  constructor(
    settings: HealthCheckSettings,
    clock: Clock,
    onVerdict: (endpoint: Endpoint, healthy: boolean) => void,
    prober: HealthProber = new UndiciProber(settings),
  ) {
    this.#settings = settings;
    this.#clock = clock;
    this.#onVerdict = onVerdict;
    this.#prober = prober;
    this.#timers = new TimerQueue(clock);
  }

  /** Discovery delivered a new set: start probing new endpoints, forget (and disconnect) departed ones. */
  setEndpoints(endpoints: readonly Endpoint[]): void {
    if (this.#stopped) return;
    const current = new Set<string>();
    const now = this.#clock.now();
    for (const endpoint of endpoints) {
      current.add(endpoint.id);
      const known = this.#targets.get(endpoint.id);
      if (known !== undefined) {
        known.endpoint = endpoint;
        continue;
      }
      const target = new Target(endpoint, this.#due);
      this.#targets.set(endpoint.id, target);
      this.#timers.schedule(target, this.#clock.random() * this.#settings.jitterMs, now);
    }
    for (const [id, target] of this.#targets) {
      if (current.has(id)) continue;
      this.#targets.delete(id);
      this.#timers.cancel(target);
      target.controller?.abort();
      target.controller = undefined;
      this.#prober.forget(id);
    }
  }

  /** Probing state of every endpoint. */
  snapshot(): ProbeStatus[] {
    return [...this.#targets.values()].map((t) => Object.freeze({
      id: t.endpoint.id,
      healthy: t.healthy,
      consecutiveSuccesses: t.successes,
      consecutiveFailures: t.failures,
      probing: t.controller !== undefined,
      probes: t.probes,
    }));
  }

  /** Stops probing: clears the timer, cancels probes in flight and closes every probe connection. Idempotent. */
  stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#timers.clear();
      for (const target of this.#targets.values()) {
        target.controller?.abort();
        target.controller = undefined;
      }
      this.#targets.clear();
    }
    return this.#prober.close();
  }

  /** The target's time has come: start its probe, or (while one is in flight) fail it for taking too long. */
  #onDue(target: Target): void {
    if (this.#stopped || this.#targets.get(target.endpoint.id) !== target) return;
    const inFlight = target.controller;
    if (inFlight !== undefined) {
      target.controller = undefined;
      inFlight.abort();
      this.#finish(target, false);
      return;
    }
    const controller = new AbortController();
    target.controller = controller;
    target.probes++;
    this.#timers.schedule(target, this.#settings.timeoutMs);
    let probe: Promise<boolean>;
    try {
      probe = this.#prober.probe(target.endpoint, controller.signal);
    } catch (error) {
      probe = Promise.reject(error);
    }
    probe.then(
      (healthy) => this.#complete(target, controller, healthy === true),
      () => this.#complete(target, controller, false),
    );
  }

  #complete(target: Target, controller: AbortController, healthy: boolean): void {
    // Stale: timed out already, the endpoint left, or the checker stopped.
    if (target.controller !== controller || this.#stopped) return;
    target.controller = undefined;
    this.#timers.cancel(target);
    this.#finish(target, healthy);
  }

  /** Counts one result, reports a threshold crossing, and schedules the next probe. */
  #finish(target: Target, healthy: boolean): void {
    const s = this.#settings;
    if (healthy) {
      target.failures = 0;
      target.successes++;
      if (!target.healthy && target.successes >= s.healthyThreshold) {
        target.healthy = true;
        this.#onVerdict(target.endpoint, true);
      }
    } else {
      target.successes = 0;
      target.failures++;
      if (target.healthy && target.failures >= s.unhealthyThreshold) {
        target.healthy = false;
        this.#onVerdict(target.endpoint, false);
      }
    }
    // The verdict may have changed the set (and stopped nothing); schedule only if still watched.
    if (!this.#stopped && this.#targets.get(target.endpoint.id) === target && target.timerList === undefined) {
      this.#timers.schedule(target, s.intervalMs + this.#clock.random() * s.jitterMs);
    }
  }
}
