import type { Dispatcher } from 'undici';
import { invalidArgument, MeshkitError } from '../core/errors.js';
import { GovernedExchange } from './exchange.js';
import { responderFor } from './responder.js';
import type { RouteTable } from './routes.js';

/**
 * Sends requests to routed origins through their clients, and tracks them:
 * the dispatcher's `close()` waits for them, `destroy()` aborts them. Shared
 * by {@link MeshkitDispatcher} and {@link meshkitInterceptor}.
 */
export class GovernedRouter {
  readonly #routes: RouteTable;
  /**
   * Exchanges in flight, linked through themselves, newest first. Not a
   * `Set`: a long-lived set with an entry added and removed per request gets
   * its regrown tables in the old generation, and a replaced table keeps
   * every exchange it held (with its response and buffers) reachable until
   * the next full collection, so young collections copy and promote them all
   * (measured: about 5.5 KB promoted per request).
   */
  #first: GovernedExchange | undefined = undefined;
  #count = 0;
  readonly #forget = (exchange: GovernedExchange): void => {
    if (!exchange.listed) return;
    exchange.listed = false;
    const { previousInFlight: previous, nextInFlight: next } = exchange;
    if (previous === undefined) this.#first = next;
    else previous.nextInFlight = next;
    if (next !== undefined) next.previousInFlight = previous;
    exchange.previousInFlight = exchange.nextInFlight = undefined;
    if (--this.#count === 0) for (const idle of this.#idle.splice(0)) idle();
  };
  readonly #idle: (() => void)[] = [];
  #closed: MeshkitError | undefined = undefined;

  constructor(routes: RouteTable) {
    this.#routes = routes;
  }

  /** Governed requests in flight (response bodies still streaming included). */
  get inFlight(): number {
    return this.#count;
  }

  /**
   * Dispatches `options` through its route's client and returns true, or
   * returns false when no route matches (the caller sends it on untouched).
   * A route predicate that throws fails this request, unsent, with
   * `ERR_INVALID_CONFIG`. Throws `ERR_INVALID_ARGUMENT` for a handler of
   * neither undici API, as undici throws for one.
   */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const client = this.#routes.lookup(options?.origin);
    if (client === undefined) return false;
    const responder = responderFor(handler);
    if (responder === undefined) {
      throw invalidArgument('handler', 'an undici dispatch handler (onError, onHeaders, ... or onRequestStart, onResponseStart, ...)', handler);
    }
    const exchange = new GovernedExchange(responder, this.#forget);
    // A route predicate threw on this origin: this request fails, the others go on.
    if (client instanceof MeshkitError) {
      exchange.refuse(client);
      return true;
    }
    if (this.#closed !== undefined) {
      exchange.refuse(this.#closed);
      return true;
    }
    this.#track(exchange);
    exchange.run(client, options);
    return true;
  }

  /**
   * Refuses a request unsent with the closed error (whatever its origin: a
   * closed dispatcher sends nothing); false before close.
   */
  refuseIfClosed(handler: Dispatcher.DispatchHandler): boolean {
    if (this.#closed === undefined) return false;
    const responder = responderFor(handler);
    if (responder === undefined) throw invalidArgument('handler', 'an undici dispatch handler', handler);
    new GovernedExchange(responder, () => {}).refuse(this.#closed);
    return true;
  }

  /** Refuses new governed requests with `reason`; resolves when those in flight have settled. */
  close(reason: MeshkitError): Promise<void> {
    this.#closed ??= reason;
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Refuses new governed requests and aborts those in flight with `reason`. */
  destroy(reason: Error, closed: MeshkitError): void {
    this.#closed ??= closed;
    const all: GovernedExchange[] = [];
    for (let exchange = this.#first; exchange !== undefined; exchange = exchange.nextInFlight) all.push(exchange);
    for (const exchange of all) exchange.abort(reason);
  }

  #track(exchange: GovernedExchange): void {
    exchange.listed = true;
    const first = this.#first;
    exchange.nextInFlight = first;
    if (first !== undefined) first.previousInFlight = exchange;
    this.#first = exchange;
    this.#count++;
  }
}
