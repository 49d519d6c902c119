import type { Server } from 'node:http';
import { invalidConfig } from '../core/errors.js';
import { register } from '../registration/register.js';
import type { HealthCheck, Registrar, Registration, ServiceInstance } from '../registration/registrar.js';
import { resolveLifecycleOptions, type Closeable, type ServerLifecycleOptions, type ServerLifecycleSettings } from './lifecycle-options.js';
import { delay, within } from './delay.js';
import { RequestTracker } from './request-tracker.js';
import { SocketTracker } from './socket-tracker.js';

/**
 * How long a drain waits for the servers to report closed once `drainTimeout`
 * has passed and every connection was destroyed: destroyed sockets close at
 * once, so this only bounds a server that never reports it.
 */
const FORCED_CLOSE_WAIT_MS = 1000;

/** Where a server is in its life. Readiness is true only in `ready`. */
export type LifecycleState = 'starting' | 'ready' | 'draining' | 'closed';

/** One step of a server's life, in the order they happen. */
export type LifecycleEvent =
  | { readonly type: 'ready' }
  /** Readiness turned false; responses now close their connections. */
  | { readonly type: 'draining' }
  /** Registrations removed (`error` when the registry could not be told; its check or lease expiry will remove us). */
  | { readonly type: 'deregistered'; readonly error?: unknown }
  /** Listening sockets closed: new connections are refused. */
  | { readonly type: 'stopped-accepting' }
  /** Requests in flight finished, or `abandoned` of them were cut off at `drainTimeout`. */
  | { readonly type: 'drained'; readonly abandoned: number }
  /** Clients closed; nothing is left. */
  | { readonly type: 'closed' };

/** Options of {@link ServerLifecycle.leave}. */
export interface LeaveOptions {
  /** Spend `propagationDelay` after deregistering. Default true. */
  readonly propagate?: boolean;
}


/**
 * Liveness, readiness and graceful shutdown of one service process, the same
 * under Express, Fastify or a plain `http.Server`.
 *
 * `close()` (and, once {@link installSignalHandlers} ran, SIGTERM/SIGINT) runs
 * the sequence that lets callers move away without a failed request:
 *
 * 1. readiness turns false; responses start saying `Connection: close`;
 * 2. every registration made through {@link register} is removed (bounded by
 *    `deregisterTimeout`), then the server keeps serving for
 *    `propagationDelay` so callers' discovery sees the change;
 * 3. listening stops (new connections are refused), idle keep-alive
 *    connections close;
 * 4. requests in flight finish within `drainTimeout` (a handler still
 *    running after its caller hung up is waited for too); the rest are cut off;
 * 5. the given clients (meshkit clients used by the handlers) close.
 *
 * This is the order Kubernetes and Envoy recommend: out of discovery first,
 * then stop accepting, then drain. Each step runs once however often it is asked for.
 */
export class ServerLifecycle {
  readonly settings: ServerLifecycleSettings;
  readonly #tracker: RequestTracker;
  readonly #sockets = new SocketTracker();
  readonly #registrations: Registration[] = [];
  readonly #clients: Closeable[];
  readonly #listeners = new Set<(event: LifecycleEvent) => void>();
  #state: LifecycleState = 'starting';
  #leaving: Promise<void> | undefined;
  #draining: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #uninstall: (() => void) | undefined;

  /** Throws `ERR_INVALID_CONFIG` naming `lifecycle.<option>`. */
  constructor(options?: ServerLifecycleOptions) {
    this.settings = resolveLifecycleOptions(options);
    // A handler still running after its caller hung up is waited for, at most as long as a drain waits.
    this.#tracker = new RequestTracker(this.settings.clock, this.settings.drainTimeoutMs);
    this.#clients = [...this.settings.clients];
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** True while the process can answer at all (until `close()` has finished). */
  get live(): boolean {
    return this.#state !== 'closed';
  }

  /** True while the server should get traffic: started and not draining. */
  get ready(): boolean {
    return this.#state === 'ready';
  }

  /** Requests being answered on the attached servers. */
  get inFlight(): number {
    return this.#tracker.inFlight;
  }

  /** Registrations made through {@link register} and not yet removed. */
  get registrations(): readonly Registration[] {
    return [...this.#registrations];
  }

  /** Calls `listener` with each {@link LifecycleEvent}; returns the unsubscribe function. */
  subscribe(listener: (event: LifecycleEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Tracks `server`'s requests and sockets for the drain and closes it on
   * shutdown. The lifecycle turns ready once the server listens (at once if
   * it already does). A server that starts listening after the drain began
   * is closed at once: nothing would ever drain it.
   */
  attach(server: Server): void {
    this.#tracker.attach(server);
    this.#sockets.attach(server);
    if (server.listening) this.#onListening(server);
    else server.once('listening', () => this.#onListening(server));
  }

  #onListening(server: Server): void {
    if (this.#draining === undefined && this.#state !== 'closed') {
      this.markReady();
      return;
    }
    // After the other 'listening' listeners: a framework's (Fastify's) reads server.address().
    void Promise.resolve().then(() => {
      server.close();
      server.closeAllConnections();
    });
  }

  /** Turns ready (readiness true), unless already draining or closed. `attach()` does this for you. */
  markReady(): void {
    if (this.#state !== 'starting') return;
    this.#state = 'ready';
    this.#emit({ type: 'ready' });
  }

  /** Adds a client to close last. */
  addClient(client: Closeable): void {
    if (client === null || typeof client !== 'object' || typeof client.close !== 'function') {
      throw invalidConfig('client', 'an object with close()', client);
    }
    this.#clients.push(client);
  }

  /**
   * Registers this instance through `register()` (src/registration) and keeps
   * the handle: shutdown deregisters it first. Signals are handled here, not
   * by `register()`, so that readiness, deregistration and drain run in order.
   */
  async register(registrar: Registrar, instance: ServiceInstance, options: { readonly check?: HealthCheck } = {}): Promise<Registration> {
    const registration = await register(registrar, instance, { signals: [], ...(options.check === undefined ? {} : { check: options.check }) });
    if (this.#leaving !== undefined) {
      // Shutdown began while we were registering: do not leave a stale entry behind.
      await registration.deregister();
      return registration;
    }
    this.#registrations.push(registration);
    return registration;
  }

  /**
   * Steps 1-2: readiness false, `Connection: close`, deregister, then (when
   * something was deregistered and `propagate` is not false) keep serving for
   * `propagationDelay`. Runs once; later calls return the same promise.
   */
  leave(options: LeaveOptions = {}): Promise<void> {
    this.#leaving ??= this.#leave(options.propagate ?? true);
    return this.#leaving;
  }

  async #leave(propagate: boolean): Promise<void> {
    if (this.#state !== 'closed') this.#state = 'draining';
    this.#tracker.startDraining();
    this.#emit({ type: 'draining' });
    const registrations = this.#registrations.splice(0);
    if (registrations.length === 0) return;
    const ms = this.settings.deregisterTimeoutMs;
    const result = await within(Promise.all(registrations.map((r) => r.deregister())), ms, this.settings.clock);
    if (!result.done) this.#emit({ type: 'deregistered', error: new Error(`deregistration took longer than ${ms} ms`) });
    else if ('error' in result) this.#emit({ type: 'deregistered', error: result.error });
    else this.#emit({ type: 'deregistered' });
    if (propagate && this.settings.propagationDelayMs > 0) await delay(this.settings.propagationDelayMs, this.settings.clock).promise;
  }

  /**
   * Steps 3-4: stop listening, then wait for requests in flight, up to
   * `drainTimeout`; connections still open after it are destroyed, upgraded
   * (WebSocket) and CONNECT ones included, and the servers are waited for at
   * most 1 s more, so a drain always ends. Starts
   * {@link leave} without its propagation delay if it has not run. Runs once.
   */
  drain(): Promise<void> {
    this.#draining ??= this.#drain();
    return this.#draining;
  }

  async #drain(): Promise<void> {
    await this.leave({ propagate: false });
    const servers = this.#tracker.servers.filter((s) => s.listening);
    const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const server of servers) server.closeIdleConnections();
    this.#emit({ type: 'stopped-accepting' });
    const bound = delay(this.settings.drainTimeoutMs, this.settings.clock);
    const timedOut = bound.promise.then(() => true);
    try {
      const late = await Promise.race([this.#tracker.whenIdle().then(() => false), timedOut]);
      const abandoned = late ? this.#tracker.inFlight : 0;
      for (const server of servers) {
        if (abandoned > 0) server.closeAllConnections();
        else server.closeIdleConnections();
      }
      // A connection may still be between requests or mid-way through a new one (answered with Connection: close).
      if (await Promise.race([Promise.all(closed).then(() => false), timedOut])) {
        for (const server of servers) server.closeAllConnections();
        // closeAllConnections() leaves upgraded and CONNECT sockets alone; server.close() waits for them.
        this.#sockets.destroyAll();
        await within(Promise.all(closed), FORCED_CLOSE_WAIT_MS, this.settings.clock);
      }
      this.#emit({ type: 'drained', abandoned });
    } finally {
      bound.cancel();
    }
  }

  /** Step 5: closes the clients (all of them, even if one fails). */
  async closeClients(): Promise<void> {
    const clients = this.#clients.splice(0);
    await Promise.allSettled(clients.map(async (client) => client.close()));
  }

  /** The whole sequence (steps 1-5). Idempotent: every call returns the same promise. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.leave();
      await this.drain();
      await this.closeClients();
      this.#uninstall?.();
      this.#state = 'closed';
      this.#emit({ type: 'closed' });
    })();
    return this.#closing;
  }

  /**
   * On the first of `settings.signals`, runs `shutdown` (default
   * {@link close}), then `onShutdown(signal)` (default: re-raise the signal
   * with this handler removed). Returns a function that removes the handlers;
   * `close()` removes them too. Installing twice replaces the first.
   */
  installSignalHandlers(shutdown: () => Promise<void> = () => this.close()): () => void {
    this.#uninstall?.();
    const signals = this.settings.signals;
    const onSignal = (signal: NodeJS.Signals): void => {
      uninstall();
      void (async () => {
        try {
          await shutdown();
        } catch (error) {
          process.emitWarning(`meshkit: shutdown on ${signal} failed: ${String(error)}`, { code: 'MESHKIT_SHUTDOWN_ERROR' });
        }
        try {
          if (this.settings.onShutdown !== undefined) await this.settings.onShutdown(signal);
          else process.kill(process.pid, signal);
        } catch (error) {
          process.emitWarning(`meshkit: onShutdown(${signal}) failed: ${String(error)}`, { code: 'MESHKIT_SHUTDOWN_ERROR' });
        }
      })();
    };
    const uninstall = (): void => {
      for (const name of signals) process.removeListener(name, onSignal);
      if (this.#uninstall === uninstall) this.#uninstall = undefined;
    };
    for (const name of signals) process.once(name, onSignal);
    this.#uninstall = uninstall;
    return uninstall;
  }

  #emit(event: LifecycleEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not stop a shutdown half-way.
      }
    }
  }
}

/** Builds a {@link ServerLifecycle}; see its documentation for the sequence and defaults. */
export function serverLifecycle(options?: ServerLifecycleOptions): ServerLifecycle {
  return new ServerLifecycle(options);
}
