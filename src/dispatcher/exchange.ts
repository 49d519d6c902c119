import { finished, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Client } from '../client/client.js';
import type { RequestOptions } from '../client/request-options.js';
import { invalidArgument, MeshkitError } from '../core/errors.js';
import type { HttpBody, HttpHeaders, HttpResponse } from '../transports/http-types.js';
import type { ExchangeControls, Responder } from './responder.js';

/** undici's header forms: an object, a flat `[name, value, ...]` list, or an iterable of `[name, value]` pairs. */
function toHeaders(headers: Dispatcher.DispatchOptions['headers']): HttpHeaders | undefined {
  if (headers === null || headers === undefined) return undefined;
  if (Array.isArray(headers)) return Array.isArray(headers[0]) ? flattenPairs(headers as Iterable<unknown>) : headers as string[];
  if (typeof (headers as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') return flattenPairs(headers as Iterable<unknown>);
  return headers as Record<string, string | string[] | undefined>;
}

function flattenPairs(pairs: Iterable<unknown>): string[] {
  const flat: string[] = [];
  for (const pair of pairs) {
    const [name, value] = pair as [string, string | string[] | undefined];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) flat.push(name, item);
    else flat.push(name, value);
  }
  return flat;
}

/** `path` with undici's `query` option appended, as undici serializes it. */
function withQuery(path: string, query: Record<string, unknown> | undefined): string {
  if (query === undefined || query === null) return path;
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value) search.append(name, String(item));
    else search.append(name, String(value));
  }
  const text = search.toString();
  if (text === '') return path;
  return `${path}${path.includes('?') ? '&' : '?'}${text}`;
}

/**
 * Refuses what a governed call cannot carry: an upgrade (WebSocket, h2c) or
 * CONNECT takes the socket out of the pool and out of any retry, deadline or
 * balancing, so it is the caller's to route to an ungoverned origin.
 */
function refusal(options: Dispatcher.DispatchOptions): MeshkitError | undefined {
  const upgrade = options.upgrade;
  if (options.method !== 'CONNECT' && (upgrade === undefined || upgrade === null || upgrade === false)) return undefined;
  const what = options.method === 'CONNECT' ? 'CONNECT' : `an upgrade to ${String(upgrade)}`;
  return invalidArgument('dispatch options', `a plain HTTP request (meshkit does not govern ${what}; send it to an origin with no route)`,
    { method: options.method, upgrade, path: options.path });
}

/** The caller's abort when it gave no reason: the caller's doing, as every abort is. */
function callerAbort(): MeshkitError {
  return new MeshkitError('ERR_ABORTED', 'the request was aborted by its caller', {});
}

/** Rethrows a handler's own exception outside meshkit's promise chain, as an EventEmitter listener's would surface. */
function surface(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * One request undici dispatched to a governed origin: sent with
 * `client.request()` (discovery, balancing, policies, deadline, telemetry),
 * its response streamed back through the handler's callbacks with undici's
 * backpressure. It is the handler's controller too: `abort(reason)` aborts
 * the call (the caller's doing: no breaker or endpoint is charged) and the
 * handler gets `reason`, as undici delivers it. Settles the handler exactly
 * once: `end` or `error`.
 */
export class GovernedExchange implements ExchangeControls {
  readonly #responder: Responder;
  readonly #settledHook: (exchange: GovernedExchange) => void;
  /** One per request: the handler's abort must reach an attempt that may be in flight. */
  readonly #abort = new AbortController();
  #body: Readable | undefined = undefined;
  #settled = false;
  #paused = false;
  #reason: Error | null = null;
  /** @internal True while its router lists it as in flight (see router.ts). */
  listed = false;
  /** @internal Links in its router's list of exchanges in flight. */
  previousInFlight: GovernedExchange | undefined = undefined;
  /** @internal See {@link GovernedExchange.previousInFlight}. */
  nextInFlight: GovernedExchange | undefined = undefined;

  constructor(responder: Responder, onSettled: (exchange: GovernedExchange) => void) {
    this.#responder = responder;
    this.#settledHook = onSettled;
  }

  get aborted(): boolean {
    return this.#reason !== null;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  /** Starts the exchange: the handler hears of the request, then the client sends it. */
  run(client: Client, options: Dispatcher.DispatchOptions): void {
    try {
      this.#responder.start(this);
    } catch (error) {
      this.abort(error as Error);
      return;
    }
    if (this.#settled) return; // aborted from onConnect / onRequestStart
    const refused = typeof options.path === 'string'
      ? refusal(options)
      : invalidArgument('dispatch options.path', "a path starting with '/'", options.path);
    if (refused !== undefined) {
      this.#fail(refused);
      return;
    }
    const request: { -readonly [K in keyof RequestOptions]: RequestOptions[K] } = {
      path: withQuery(options.path, options.query),
      method: options.method,
      signal: this.#abort.signal,
    };
    const headers = toHeaders(options.headers);
    if (headers !== undefined) request.headers = headers;
    if (options.body !== undefined && options.body !== null) request.body = options.body as HttpBody;
    client.request(request).then((response) => this.#respond(response), (error: unknown) => this.#fail(this.#reason ?? (error as Error)));
  }

  /** Refuses the request unsent (the dispatcher is closed, a route predicate threw): the handler hears of its start, then of `error`. */
  refuse(error: MeshkitError): void {
    try {
      this.#responder.start(this);
    } catch (thrown) {
      this.abort(thrown as Error);
      return;
    }
    this.#fail(error);
  }

  abort(reason?: Error): void {
    if (this.#settled) return;
    this.#reason = reason instanceof Error ? reason : callerAbort();
    this.#abort.abort(this.#reason);
    this.#fail(this.#reason);
  }

  pause(): void {
    this.#paused = true;
    this.#body?.pause();
  }

  resume(): void {
    this.#paused = false;
    if (!this.#settled) this.#body?.resume();
  }

  #respond(response: HttpResponse): void {
    const body = response.body;
    if (this.#settled) {
      body.destroy();
      return;
    }
    this.#body = body;
    let more: boolean;
    try {
      more = this.#responder.headers(response.statusCode, response.headers, (response as { statusText?: string }).statusText ?? '');
    } catch (error) {
      this.abort(error as Error);
      return;
    }
    if (this.#settled) return;
    body.on('data', (chunk: Buffer) => this.#data(chunk));
    finished(body, (error) => {
      if (error === undefined || error === null) this.#end(response);
      else this.#fail(this.#reason ?? error);
    });
    if (!more || this.#paused) this.pause();
  }

  #data(chunk: Buffer): void {
    if (this.#settled) return;
    let more: boolean;
    try {
      more = this.#responder.data(chunk);
    } catch (error) {
      this.abort(error as Error);
      return;
    }
    if (!more) this.pause();
  }

  #end(response: HttpResponse): void {
    if (!this.#settle()) return;
    try {
      this.#responder.end(response.trailers ?? {});
    } catch (error) {
      // As undici does: a handler that throws as it completes hears of it as an error.
      this.#report(error as Error);
    }
  }

  #fail(error: Error): void {
    if (!this.#settle()) return;
    const body = this.#body;
    if (body !== undefined && !body.destroyed) body.destroy();
    this.#report(error);
  }

  #report(error: Error): void {
    try {
      this.#responder.error(error);
    } catch (thrown) {
      surface(thrown);
    }
  }

  /** Marks the exchange settled; false when it was already. */
  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#settledHook(this);
    return true;
  }
}
