import type { ClientRequest } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A request body as got holds it once it has serialised `json` and `form` (`options.body`). */
export type GotBody = string | Uint8Array | NodeJS.ReadableStream | AsyncIterable<unknown> | Iterable<unknown> | undefined;

/** Whether `body` can be sent again on a retry: strings and bytes can, streams and iterables cannot. */
export function isReplayable(body: GotBody): boolean {
  return body === undefined || typeof body === 'string' || body instanceof Uint8Array;
}

/**
 * Writes `body` into one attempt's request and ends it. Streams and
 * iterables are piped (once: such calls are never retried); a failure while
 * sending destroys the request, which rejects the attempt.
 */
export function writeBody(request: ClientRequest, body: GotBody): void {
  if (body === undefined) {
    request.end();
    return;
  }
  if (typeof body === 'string' || body instanceof Uint8Array) {
    request.end(body);
    return;
  }
  const source = body instanceof Readable ? body : Readable.from(body as AsyncIterable<unknown>);
  pipeline(source, request).catch((error: unknown) => {
    request.destroy(error instanceof Error ? error : new Error(String(error)));
  });
}
