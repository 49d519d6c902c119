import type { Dispatcher } from 'undici';

/** Request headers: an object of values, or a flat `[name, value, ...]` array. */
export type HttpHeaders = Record<string, string | string[] | undefined> | string[];

/** A request body meshkit can send; strings and byte arrays can be re-sent on retry, streams cannot. */
export type HttpBody = string | Uint8Array | NodeJS.ReadableStream | AsyncIterable<Uint8Array> | FormData | null;

/** One HTTP request as a transport sees it (after the client filled in defaults). */
export interface HttpRequest {
  /** Path and query, starting with `/`. */
  readonly path: string;
  /** Method, sent as given. Default `GET`. */
  readonly method?: string | undefined;
  readonly headers?: HttpHeaders | undefined;
  readonly body?: HttpBody | undefined;
}

/** The response of the fast path: undici's `{ statusCode, headers, body }` (consume or `dump()` the body). */
export type HttpResponse = Dispatcher.ResponseData;

/** Whether a body can be sent again on a retry. */
export function isReplayableBody(body: HttpBody | undefined): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof FormData;
}
