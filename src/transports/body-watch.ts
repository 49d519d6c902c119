import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { AttemptSink } from '../core/call-transport.js';
import { isMeshkitError, MeshkitError } from '../core/errors.js';
import { isRequestBodyFailure, requestBodyFailed } from './request-body.js';

/** The callback of undici's request API. */
type RequestCallback = (error: Error | null, data: Dispatcher.ResponseData<unknown>) => void;

/** What meshkit uses of undici's request handler (the object `pool.request(options, callback)` dispatches). */
interface RequestHandler {
  /** The request's `opaque`: the attempt. */
  readonly opaque: unknown;
  /** The request body, until the request ends. */
  readonly body: unknown;
  /** The response body, from the headers until the request ends; null before and after. */
  readonly res: Readable | null;
  /** Why the request was aborted; undici's `onConnect` aborts a request that has one before it is sent. */
  reason: unknown;
  /** undici's abort for the request, once connected; null before. */
  readonly abort: ((reason: unknown) => void) | null;
  onHeaders(statusCode: number, rawHeaders: unknown, resume: () => void, statusMessage: string): boolean | undefined;
  onError(error: Error): void;
}

/**
 * An attempt's abort side, in the EventEmitter form undici accepts as a
 * `signal` (meshkit's attempts implement it): one `abort` listener, removed
 * when the response body is done.
 */
export interface AbortSource {
  readonly aborted: boolean;
  readonly reason: unknown;
  once(event: 'abort', listener: () => void): unknown;
  removeListener(event: 'abort', listener: () => void): unknown;
}

type RequestHandlerClass = new (options: Dispatcher.RequestOptions<unknown>, callback: RequestCallback) => RequestHandler;

/**
 * undici's request handler class, which `pool.request()` instantiates:
 * meshkit dispatches a subclass of it instead, so it costs nothing more per
 * request. undefined if a future undici moves it; then requests go through
 * `pool.request()` and a failed body reaches the caller as undici's error.
 */
function loadRequestHandler(): RequestHandlerClass | undefined {
  try {
    const loaded = (createRequire(import.meta.url)('undici/lib/api/api-request.js') as { RequestHandler?: unknown }).RequestHandler;
    return typeof loaded === 'function' && typeof (loaded.prototype as Partial<RequestHandler>).onError === 'function'
      ? loaded as RequestHandlerClass
      : undefined;
  } catch {
    return undefined;
  }
}

const BaseHandler = loadRequestHandler();

/** The error a body stalled past the body timeout fails with. */
function bodyStalled(attempt: AttemptSink, timeoutMs: number, cause: unknown): MeshkitError {
  const { service } = attempt.call;
  return new MeshkitError(
    'ERR_TIMEOUT',
    `${service}: the response body of attempt ${attempt.number} from ${attempt.endpoint.id} stalled for ${timeoutMs} ms`,
    { service, endpoint: attempt.endpoint.id, attempt: attempt.number, timeoutMs, phase: 'body' },
    { cause },
  );
}

/** The handler of a response body, kept on the body stream until the stream is destroyed. */
const HANDLER = Symbol('meshkit.bodyHandler');

type WatchedBody = Readable & {
  [HANDLER]?: { release(): void } | undefined;
  _destroy(error: Error | null, callback: (error?: Error | null) => void): void;
};

/**
 * The body stream's `_destroy`, one function for every body: tells the
 * handler the body is done (when undici's own `signal` wiring would have,
 * on `close`), then runs the stream's own.
 */
function destroyReleasing(this: WatchedBody, error: Error | null, callback: (error?: Error | null) => void): void {
  const handler = this[HANDLER];
  this[HANDLER] = undefined;
  handler?.release();
  (Object.getPrototypeOf(this) as WatchedBody)._destroy.call(this, error, callback);
}

function ignore(): void {}

/**
 * undici's request handler, watching the response body: when the request
 * fails after the headers and the body was not destroyed by its reader or by
 * meshkit (an abort destroys it first), the failure is the upstream's. The
 * attempt hears of it (its endpoint is charged), and a stall past the body
 * timeout (undici's `UND_ERR_BODY_TIMEOUT`) becomes `ERR_TIMEOUT`, so the
 * reader sees meshkit's error with undici's as its `cause`. A request whose
 * own stream body failed is the caller's instead: the request (and a
 * response body being read) fails with `ERR_ABORTED` (see request-body.ts).
 *
 * It also wires the attempt's abort as undici wires a `signal` (a request
 * aborted before it is sent never goes; undici's abort while the headers
 * are awaited; the body destroyed after), except for one thing: it adds no
 * `close` listener to the body. Given a `signal`, undici does, and with the
 * listener `body.text()` adds, the body keeps its `close` listeners in an
 * array. V8 may allocate those arrays in the old generation
 * (allocation-site pretenuring: it decides so when a burst of requests is
 * all in flight at a young collection), and a dead array there kept the
 * listener of `body.text()`, and through it each finished request's body,
 * handler and call, alive through young collections until the next full
 * one. The `overhead` bench measured `c.request` at about 70 % of raw
 * undici, with a p99 near 15 ms, in such processes. The body's end is
 * learned from its `_destroy` instead, which runs just before `close`.
 */
const WatchingHandler: (new (options: Dispatcher.RequestOptions<unknown>, callback: RequestCallback, bodyTimeoutMs: number, source: AbortSource) => RequestHandler) | undefined =
  BaseHandler === undefined ? undefined : class extends BaseHandler {
    readonly bodyTimeoutMs: number;
    readonly #source: AbortSource;
    readonly #onAbort = (): void => this.#abortWith(this.#source.reason);
    /** True once the attempt's abort no longer reaches this request. */
    #released = false;

    constructor(options: Dispatcher.RequestOptions<unknown>, callback: RequestCallback, bodyTimeoutMs: number, source: AbortSource) {
      super(options, callback);
      this.bodyTimeoutMs = bodyTimeoutMs;
      this.#source = source;
      if (source.aborted) {
        this.reason = source.reason;
        this.#released = true;
      } else {
        source.once('abort', this.#onAbort);
      }
    }

    override onHeaders(statusCode: number, rawHeaders: unknown, resume: () => void, statusMessage: string): boolean | undefined {
      const result = super.onHeaders(statusCode, rawHeaders, resume, statusMessage);
      if (statusCode >= 200) {
        const res = this.res as WatchedBody | null;
        if (res === null || res.destroyed) {
          this.release(); // the response callback threw, and undici destroyed the body
        } else {
          res[HANDLER] = this;
          res._destroy = destroyReleasing;
        }
      }
      return result;
    }

    override onError(error: Error): void {
      // The caller's body failed first (undici fails the body with its own errors only after this): the caller's doing.
      if (!isMeshkitError(error) && isRequestBodyFailure(this.body, error)) error = requestBodyFailed(this.opaque as AttemptSink, error);
      const res = this.res;
      if (res !== null && !res.destroyed && !isMeshkitError(error)) {
        const attempt = this.opaque as AttemptSink;
        if ((error as { code?: unknown }).code === 'UND_ERR_BODY_TIMEOUT') error = bodyStalled(attempt, this.bodyTimeoutMs, error);
        attempt.bodyFailed(error);
      }
      super.onError(error);
      // A body is released when undici destroys it; without one, nothing else will.
      if (res === null) this.release();
    }

    /** The request is done: the attempt forgets its abort listener, which tells it that its body is done. */
    release(): void {
      if (this.#released) return;
      this.#released = true;
      this.#source.removeListener('abort', this.#onAbort);
    }

    /** What undici does when a request's `signal` aborts. */
    #abortWith(reason: unknown): void {
      this.#released = true; // the attempt dropped its listener as it called it
      this.reason = reason;
      const res = this.res;
      if (res !== null) {
        if (!res.destroyed) res.on('error', ignore).destroy(reason as Error);
      } else {
        this.abort?.(reason);
      }
    }
  };

/**
 * Sends one request on `pool` with undici's callback API, the body watched
 * and the attempt's abort wired as {@link WatchingHandler} says;
 * `options.opaque` must be the attempt, `source` its abort side, and
 * `options` must carry no `signal`. Reports errors through `callback` like
 * `pool.request` (never throws).
 */
export function requestWatchingBody(
  pool: Dispatcher,
  options: Dispatcher.RequestOptions<unknown>,
  callback: RequestCallback,
  bodyTimeoutMs: number,
  source: AbortSource,
): void {
  if (WatchingHandler === undefined) {
    pool.request({ ...options, signal: source as unknown as AbortSignal }, callback);
    return;
  }
  try {
    pool.dispatch(options, new WatchingHandler(options, callback, bodyTimeoutMs, source) as unknown as Dispatcher.DispatchHandler);
  } catch (error) {
    // As pool.request does: a bad option is reported through the callback, later.
    queueMicrotask(() => callback(error as Error, { opaque: options.opaque } as Dispatcher.ResponseData<unknown>));
  }
}
