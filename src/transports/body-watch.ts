import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { AttemptSink } from '../core/call-transport.js';
import { isMeshkitError, MeshkitError } from '../core/errors.js';

/** The callback of undici's request API. */
type RequestCallback = (error: Error | null, data: Dispatcher.ResponseData<unknown>) => void;

/** What meshkit uses of undici's request handler (the object `pool.request(options, callback)` dispatches). */
interface RequestHandler {
  /** The request's `opaque`: the attempt. */
  readonly opaque: unknown;
  /** The response body, from the headers until the request ends; null before and after. */
  readonly res: Readable | null;
  onError(error: Error): void;
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

/**
 * undici's request handler, watching the response body: when the request
 * fails after the headers and the body was not destroyed by its reader or by
 * meshkit (an abort destroys it first), the failure is the upstream's. The
 * attempt hears of it (its endpoint is charged), and a stall past the body
 * timeout (undici's `UND_ERR_BODY_TIMEOUT`) becomes `ERR_TIMEOUT`, so the
 * reader sees meshkit's error with undici's as its `cause`.
 */
const WatchingHandler: (new (options: Dispatcher.RequestOptions<unknown>, callback: RequestCallback, bodyTimeoutMs: number) => RequestHandler) | undefined =
  BaseHandler === undefined ? undefined : class extends BaseHandler {
    readonly bodyTimeoutMs: number;

    constructor(options: Dispatcher.RequestOptions<unknown>, callback: RequestCallback, bodyTimeoutMs: number) {
      super(options, callback);
      this.bodyTimeoutMs = bodyTimeoutMs;
    }

    override onError(error: Error): void {
      const res = this.res;
      if (res !== null && !res.destroyed && !isMeshkitError(error)) {
        const attempt = this.opaque as AttemptSink;
        if ((error as { code?: unknown }).code === 'UND_ERR_BODY_TIMEOUT') error = bodyStalled(attempt, this.bodyTimeoutMs, error);
        attempt.bodyFailed(error);
      }
      super.onError(error);
    }
  };

/**
 * Sends one request on `pool` with undici's callback API, the body watched
 * as {@link WatchingHandler} says; `options.opaque` must be the attempt.
 * Reports errors through `callback` like `pool.request` (never throws).
 */
export function requestWatchingBody(
  pool: Dispatcher,
  options: Dispatcher.RequestOptions<unknown>,
  callback: RequestCallback,
  bodyTimeoutMs: number,
): void {
  if (WatchingHandler === undefined) {
    pool.request(options, callback);
    return;
  }
  try {
    pool.dispatch(options, new WatchingHandler(options, callback, bodyTimeoutMs) as unknown as Dispatcher.DispatchHandler);
  } catch (error) {
    // As pool.request does: a bad option is reported through the callback, later.
    queueMicrotask(() => callback(error as Error, { opaque: options.opaque } as Dispatcher.ResponseData<unknown>));
  }
}
