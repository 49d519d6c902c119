import type { AttemptContext } from '../core/attempt.js';
import { MeshkitError } from '../core/errors.js';

/**
 * The error an attempt fails with when the caller's request body failed
 * while it was being sent (a stream that errored or closed early, an
 * iterable that threw: a proxied upload whose client hung up, say):
 * `ERR_ABORTED` with `details.reason` `'request-body'`, blame `'caller'`,
 * the body's own error as `cause`. The caller's doing, so no breaker,
 * ejection or latency estimate moves, and it is not retried (the body was
 * consumed anyway).
 */
export function requestBodyFailed(attempt: AttemptContext, cause: unknown): MeshkitError {
  const { service } = attempt.call;
  const endpoint = attempt.endpoint.id;
  return new MeshkitError(
    'ERR_ABORTED',
    `${service}: the request body of attempt ${attempt.number} to ${endpoint} failed while it was sent: ${describe(cause)}`,
    { service, endpoint, attempt: attempt.number, reason: 'request-body' },
    { cause, blame: 'caller' },
  );
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

/** What meshkit reads of a Node stream body (undici takes any object with `pipe` and `on` as one). */
interface StreamBody {
  readonly pipe: unknown;
  readonly on: unknown;
  readonly destroyed?: boolean;
  readonly errored?: unknown;
}

function isStream(body: object): body is StreamBody {
  return typeof (body as Partial<StreamBody>).pipe === 'function' && typeof (body as Partial<StreamBody>).on === 'function';
}

/**
 * True when `error`, with which undici fails a request, is the failure of
 * its stream `body`: the error the body was destroyed with, or undici's
 * `UND_ERR_ABORTED` for a body destroyed without one. Only meaningful while
 * undici reports the error to the request's handler: undici destroys the
 * body with its own errors (a reset socket's) only after that, so a body
 * already errored then failed by itself. No listener on the body is needed.
 */
export function isRequestBodyFailure(body: unknown, error: unknown): boolean {
  if (typeof body !== 'object' || body === null || !isStream(body) || body.destroyed !== true) return false;
  const errored = body.errored;
  if (errored !== null && errored !== undefined) return errored === error;
  return (error as { code?: unknown } | null)?.code === 'UND_ERR_ABORTED';
}

/**
 * The body to hand undici for `body`: an iterable (sync or async, not a
 * stream, byte array or FormData) wrapped so that what it throws fails the
 * attempt with {@link requestBodyFailed}; anything else as it is, so strings
 * and bytes cost one `typeof`. A stream's failure is told by
 * {@link isRequestBodyFailure} instead.
 */
export function guardedBody<B>(body: B, attempt: AttemptContext): B {
  if (typeof body !== 'object' || body === null || ArrayBuffer.isView(body) || isStream(body)) return body;
  // FormData is iterable (its entries), but undici encodes it as a form, not as chunks.
  if ((body as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'FormData') return body;
  const iterable = body as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
  if (typeof iterable[Symbol.asyncIterator] !== 'function' && typeof iterable[Symbol.iterator] !== 'function') return body;
  return guarded(body as unknown as AsyncIterable<unknown> | Iterable<unknown>, attempt) as B;
}

/**
 * Yields `source`'s chunks; a throw from `source` becomes the caller's
 * failure. undici stops the loop with `return()`, never with `throw()`, so
 * whatever is caught here came from the source.
 */
async function* guarded(source: AsyncIterable<unknown> | Iterable<unknown>, attempt: AttemptContext): AsyncGenerator<unknown, void, undefined> {
  try {
    yield* source;
  } catch (error) {
    throw requestBodyFailed(attempt, error);
  }
}
