import { Dispatcher } from 'undici';
import { MeshkitError } from '../core/errors.js';
import { resolveDispatcherOptions, type MeshkitDispatcherOptions } from './options.js';
import { GovernedRouter } from './router.js';

/**
 * An undici `Dispatcher` that governs requests to routed origins with
 * meshkit and sends every other request to its fallback untouched. Make one
 * with {@link meshkitDispatcher}.
 *
 * It owns neither its clients nor its fallback: `close()` refuses new
 * requests (`ERR_CLIENT_CLOSED`, to any origin) and waits for the governed
 * ones in flight, response bodies included; `destroy(reason)` aborts them.
 * Close the clients (and a fallback you made) yourself.
 */
export class MeshkitDispatcher extends Dispatcher {
  readonly #router: GovernedRouter;
  readonly #fallback: Dispatcher;
  #closed = false;

  /** @internal Use {@link meshkitDispatcher}. */
  constructor(options: MeshkitDispatcherOptions) {
    super();
    const { routes, fallback } = resolveDispatcherOptions(options, 'meshkitDispatcher');
    this.#router = new GovernedRouter(routes);
    this.#fallback = fallback;
  }

  /** Where unrouted requests go. */
  get fallback(): Dispatcher {
    return this.#fallback;
  }

  /** Governed requests in flight, response bodies still streaming included. */
  get inFlight(): number {
    return this.#router.inFlight;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.#router.refuseIfClosed(handler) || this.#router.dispatch(options, handler) || this.#fallback.dispatch(options, handler);
  }

  override close(callback: () => void): void;
  override close(): Promise<void>;
  override close(callback?: () => void): Promise<void> | void {
    this.#closed = true;
    const closed = this.#router.close(this.#closedError());
    if (callback === undefined) return closed;
    void closed.then(callback);
  }

  override destroy(err: Error | null, callback: () => void): void;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null): Promise<void>;
  override destroy(): Promise<void>;
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const done = typeof errOrCallback === 'function' ? errOrCallback : callback;
    const reason = errOrCallback instanceof Error ? errOrCallback : undefined;
    this.#closed = true;
    const closedError = this.#closedError();
    this.#router.destroy(reason ?? closedError, closedError);
    const destroyed = this.#router.close(closedError);
    if (done === undefined) return destroyed;
    void destroyed.then(done);
  }

  /** True once `close()` or `destroy()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #closedError(): MeshkitError {
    return new MeshkitError('ERR_CLIENT_CLOSED', 'the meshkit dispatcher is closed', {});
  }
}

/**
 * An undici `Dispatcher` for zero-code governance: with
 * `setGlobalDispatcher(meshkitDispatcher({ routes }))`, every global
 * `fetch`, `undici.request` / `stream` / `pipeline` and every SDK built on
 * them sends requests to a routed origin (`'http://orders'`) through its
 * meshkit client: discovery, balancing, retries elsewhere, outlier
 * ejection, breakers, the deadline header, trace context. Requests to other
 * origins go to `fallback` (default: the global dispatcher as it is now)
 * untouched.
 *
 * Request and response bodies stream both ways with backpressure; the
 * caller's abort reaches the call (its doing: no endpoint is charged); the
 * response body is bounded by the call's deadline. A streamed request body
 * (fetch sends every body as a stream) cannot be sent twice, so such a call
 * is never retried. An upgrade (WebSocket) or CONNECT to a routed origin is
 * refused with `ERR_INVALID_ARGUMENT`.
 *
 * Validates `options` at once: an unknown key or a bad route throws
 * `ERR_INVALID_CONFIG`.
 *
 * @example
 * ```ts
 * import { setGlobalDispatcher } from 'undici';
 * import { client } from 'meshkit';
 * import { meshkitDispatcher } from 'meshkit/undici';
 *
 * const orders = client('orders').endpoints(['127.0.0.1:8081', '127.0.0.1:8082']).build();
 * setGlobalDispatcher(meshkitDispatcher({ routes: { 'http://orders': orders } }));
 * const response = await fetch('http://orders/v1/orders/42'); // governed
 * ```
 */
export function meshkitDispatcher(options: MeshkitDispatcherOptions): MeshkitDispatcher {
  return new MeshkitDispatcher(options);
}
