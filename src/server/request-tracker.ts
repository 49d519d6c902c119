import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../core/clock.js';

/**
 * Counts the requests an `http.Server` is answering, straight from its
 * `request` events, so drain works the same under Express, Fastify or plain
 * Node. Once draining, every response not yet started says
 * `Connection: close`, so keep-alive callers reconnect (to other instances)
 * instead of sending more work down a connection that is about to close.
 *
 * A request counts until its handler has ended the response, even when its
 * caller hung up first: the handler is still running (and may still use the
 * clients the lifecycle closes after the drain). Such a request counts until
 * its handler ends the response or `abandonedHoldMs` after the hang-up,
 * whichever comes first, so a handler that stops without ending its
 * response is not counted for ever.
 */
export class RequestTracker {
  readonly #open = new Set<ServerResponse>();
  readonly #servers = new Set<Server>();
  readonly #clock: Clock;
  readonly #abandonedHoldMs: number;
  #draining = false;
  #idle: (() => void)[] = [];

  constructor(clock: Clock, abandonedHoldMs: number) {
    this.#clock = clock;
    this.#abandonedHoldMs = abandonedHoldMs;
  }

  readonly #onRequest = (_req: IncomingMessage, res: ServerResponse): void => {
    this.#open.add(res);
    if (this.#draining && !res.headersSent) res.setHeader('connection', 'close');
    res.once('close', () => {
      if (res.writableEnded) this.#done(res);
      else this.#holdAbandoned(res);
    });
  };

  /** The caller hung up first: counted until the handler ends the response (Node emits `prefinish` from `end()` then too) or the hold runs out. */
  #holdAbandoned(res: ServerResponse): void {
    let timer: TimerHandle;
    const done = (): void => {
      this.#clock.clearTimeout(timer);
      res.removeListener('prefinish', done);
      this.#done(res);
    };
    res.once('prefinish', done);
    timer = this.#clock.setTimeout(done, this.#abandonedHoldMs);
  }

  #done(res: ServerResponse): void {
    if (!this.#open.delete(res)) return;
    if (this.#open.size === 0) this.#notifyIdle();
  }

  /** Requests being answered on every attached server. */
  get inFlight(): number {
    return this.#open.size;
  }

  /** The servers attached, in order. */
  get servers(): readonly Server[] {
    return [...this.#servers];
  }

  /** Starts counting `server`'s requests. Attaching twice is a no-op. */
  attach(server: Server): void {
    if (this.#servers.has(server)) return;
    this.#servers.add(server);
    // First in line, so a framework's own listener (Fastify's) never answers before the request is counted.
    server.prependListener('request', this.#onRequest);
  }

  /** From now on responses close their connection; responses already under way that have not sent headers too. */
  startDraining(): void {
    this.#draining = true;
    for (const res of this.#open) if (!res.headersSent) res.setHeader('connection', 'close');
  }

  /** Resolves when no request is in flight (at once if none is). */
  whenIdle(): Promise<void> {
    if (this.#open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #notifyIdle(): void {
    const waiting = this.#idle;
    this.#idle = [];
    for (const resolve of waiting) resolve();
  }
}
