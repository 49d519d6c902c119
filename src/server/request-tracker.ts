import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Counts the requests an `http.Server` is answering, straight from its
 * `request` events, so drain works the same under Express, Fastify or plain
 * Node. Once draining, every response not yet started says
 * `Connection: close`, so keep-alive callers reconnect (to other instances)
 * instead of sending more work down a connection that is about to close.
 */
export class RequestTracker {
  readonly #open = new Set<ServerResponse>();
  readonly #servers = new Set<Server>();
  #draining = false;
  #idle: (() => void)[] = [];

  readonly #onRequest = (_req: IncomingMessage, res: ServerResponse): void => {
    this.#open.add(res);
    if (this.#draining && !res.headersSent) res.setHeader('connection', 'close');
    res.once('close', () => {
      this.#open.delete(res);
      if (this.#open.size === 0) this.#notifyIdle();
    });
  };

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
