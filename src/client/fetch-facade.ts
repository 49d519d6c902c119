import { Readable } from 'node:stream';
import { invalidArgument, isMeshkitError, MeshkitError } from '../core/errors.js';
import { isIdempotentRequest } from '../core/idempotency.js';
import type { HttpBody, HttpRequest, HttpResponse } from '../transports/http-types.js';
import { isAbortSignal } from './call-option-keys.js';
import type { CallOptions } from './request-options.js';
import type { ResolvedRequestDefaults } from './request-shape.js';
import { toWebBody } from './web-body.js';

/** What `client.fetch` accepts as its first argument, like `fetch`. */
export type FetchInput = string | URL | Request;

/** Runs one governed HTTP call (provided by the client). */
export type RunHttp = (request: HttpRequest, options: CallOptions, idempotent: boolean, replayable: boolean) => Promise<HttpResponse>;

/** Placeholder origin for resolving relative paths and redirects; the host is never contacted. */
const BASE = 'http://meshkit.invalid';
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

interface PreparedBody {
  readonly body: HttpBody | undefined;
  readonly contentType: string | undefined;
  readonly replayable: boolean;
}

/** Turns a fetch body into one undici sends; only streams are not replayable. */
async function prepareBody(body: RequestInit['body']): Promise<PreparedBody> {
  if (body === undefined || body === null) return { body: undefined, contentType: undefined, replayable: true };
  if (typeof body === 'string') return { body, contentType: 'text/plain;charset=UTF-8', replayable: true };
  if (body instanceof URLSearchParams) {
    return { body: body.toString(), contentType: 'application/x-www-form-urlencoded;charset=UTF-8', replayable: true };
  }
  if (body instanceof ArrayBuffer) return { body: new Uint8Array(body), contentType: undefined, replayable: true };
  if (ArrayBuffer.isView(body)) {
    return { body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), contentType: undefined, replayable: true };
  }
  if (body instanceof Blob) {
    return { body: new Uint8Array(await body.arrayBuffer()), contentType: body.type === '' ? undefined : body.type, replayable: true };
  }
  if (body instanceof FormData) return { body, contentType: undefined, replayable: true };
  if (body instanceof ReadableStream) {
    return { body: Readable.fromWeb(body as import('node:stream/web').ReadableStream), contentType: undefined, replayable: false };
  }
  throw invalidArgument('init.body', 'a string, ArrayBuffer, typed array, Blob, FormData, URLSearchParams or ReadableStream', body);
}

/** Where `client.fetch` sends: the service, its transport's scheme and the client's request defaults. */
export interface FetchTarget {
  readonly service: string;
  /** The transport's scheme (`'http'` or `'https'`); undefined for a transport that does not say. */
  readonly protocol: string | undefined;
  readonly defaults: ResolvedRequestDefaults | undefined;
}

/** The URL asked for, and the path (with query) sent. */
interface Asked {
  readonly url: URL;
  readonly path: string;
}

/**
 * Reads `input` as fetch would, and as strictly: a path starting with `/`,
 * or an absolute http(s) URL whose host names the service (it is not
 * contacted: the service's endpoints are). A relative or malformed URL, a
 * scheme the transport does not speak, or a port (the endpoints choose it)
 * is `ERR_INVALID_ARGUMENT`, never silently dropped.
 */
function readInput(input: string | URL, target: FetchTarget): Asked {
  const scheme = target.protocol ?? 'http';
  const isPath = typeof input === 'string' && input.charCodeAt(0) === 47 /* / */ && input.charCodeAt(1) !== 47;
  let url: URL;
  try {
    url = isPath ? new URL(input, `${scheme}://${target.service}`) : input instanceof URL ? input : new URL(input);
  } catch {
    throw invalidArgument('input', "a path starting with '/' or an absolute http(s) URL", String(input));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidArgument('input', 'an http(s) URL or a path', String(input));
  if (target.protocol !== undefined && url.protocol !== `${target.protocol}:`) {
    throw invalidArgument('input', `an ${target.protocol}:// URL (the client's transport speaks ${target.protocol})`, String(input));
  }
  if (url.port !== '') throw invalidArgument('input', "a URL without a port (the service's endpoints choose it)", String(input));
  return { url, path: `${target.defaults?.basePath ?? ''}${url.pathname}${url.search}` };
}

function toFlatHeaders(headers: Headers): string[] {
  const flat: string[] = [];
  headers.forEach((value, name) => {
    flat.push(name, value);
  });
  return flat;
}

/** Like fetch: a body read the caller aborted rejects with the signal's own reason. */
function abortAsFetchDoes(signal: AbortSignal | undefined): (error: Error) => unknown {
  return (error) => (signal?.aborted === true && isMeshkitError(error, 'ERR_ABORTED') ? signal.reason : error);
}

function toResponse(response: HttpResponse, method: string, signal: AbortSignal | undefined, url: string, redirected: boolean): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.append(name, value);
  }
  const status = response.statusCode;
  const noBody = NULL_BODY_STATUSES.has(status) || method === 'HEAD';
  if (noBody) response.body.dump().catch(() => {});
  const body = noBody ? null : toWebBody(response.body, abortAsFetchDoes(signal));
  const result = new Response(body, { status, statusText: response.statusText, headers });
  // A constructed Response has no URL; fetch's has the one asked for (after redirects, the last one).
  Object.defineProperty(result, 'url', { value: url, enumerable: true });
  if (redirected) Object.defineProperty(result, 'redirected', { value: true, enumerable: true });
  return result;
}

/**
 * `fetch` semantics on top of the governed request path: standard `Request`
 * inputs and `RequestInit`, a standard `Response` with a streaming body,
 * redirects followed within the service (`redirect: 'follow' | 'manual' |
 * 'error'`), and aborts that reject with the signal's reason as `fetch` does.
 */
export async function fetchThrough(input: FetchInput, init: RequestInit | undefined, run: RunHttp, target: FetchTarget): Promise<Response> {
  const source = input instanceof Request ? input : undefined;
  const asked = readInput(source !== undefined ? source.url : (input as string | URL), target);
  let path = asked.path;
  const asMethod: unknown = init?.method !== undefined ? init.method : source?.method ?? 'GET';
  if (typeof asMethod !== 'string' || asMethod.length === 0) throw invalidArgument('init.method', 'an HTTP method (a non-empty string)', asMethod);
  let method = asMethod.toUpperCase();
  const headers = new Headers(init?.headers ?? source?.headers);
  const signal = init?.signal ?? source?.signal ?? undefined;
  if (signal !== undefined && !isAbortSignal(signal)) throw invalidArgument('init.signal', 'an AbortSignal', signal);
  const redirect = init?.redirect ?? source?.redirect ?? 'follow';
  let prepared = await prepareBody(init?.body !== undefined ? init.body : source?.body);
  if (prepared.contentType !== undefined && !headers.has('content-type')) headers.set('content-type', prepared.contentType);
  const defaults = target.defaults?.headers ?? [];
  const own = new Set(headers.keys());
  for (let i = 0; i < defaults.length; i += 2) if (!own.has(defaults[i] as string)) headers.append(defaults[i] as string, defaults[i + 1] as string);
  const idempotent = isIdempotentRequest(method, headers, undefined);
  const options: CallOptions = { signal, idempotent };

  for (let hops = 0; ; hops++) {
    const request: HttpRequest = { path, method, headers: toFlatHeaders(headers), body: prepared.body };
    let response: HttpResponse;
    try {
      response = await run(request, options, idempotent, prepared.replayable);
    } catch (error) {
      // Like fetch: an abort rejects with the signal's own reason.
      if (signal?.aborted === true && isMeshkitError(error, 'ERR_ABORTED')) throw signal.reason;
      throw error;
    }
    const location = response.headers['location'];
    if (!REDIRECT_STATUSES.has(response.statusCode) || redirect === 'manual' || typeof location !== 'string') {
      const url = hops === 0 ? asked.url.href : new URL(path, asked.url.origin).href;
      return toResponse(response, method, signal, url, hops > 0);
    }
    response.body.dump().catch(() => {});
    if (redirect === 'error') throw new TypeError(`fetch: redirect to ${location} with redirect: 'error'`);
    const target = new URL(location, new URL(path, BASE));
    if (target.origin !== BASE) {
      throw crossOriginRedirect('fetch', target.origin, { location });
    }
    if (hops + 1 >= MAX_REDIRECTS) throw new MeshkitError('ERR_REDIRECT', `fetch: more than ${MAX_REDIRECTS} redirects`, { location });
    const status = response.statusCode;
    if (status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST') {
      // Per the fetch standard: switch to GET and drop the body and its headers.
      method = 'GET';
      prepared = { body: undefined, contentType: undefined, replayable: true };
      for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(name);
    } else if (!prepared.replayable) {
      throw new TypeError('fetch: cannot follow a redirect with a streamed request body');
    }
    path = `${target.pathname}${target.search}`;
  }
}

/**
 * `ERR_REDIRECT` for a redirect out of the service's origin: its endpoints
 * would answer in another origin's name, so it is not followed (fetch, got).
 */
export function crossOriginRedirect(who: string, origin: string, details: Readonly<Record<string, unknown>>): MeshkitError {
  return new MeshkitError('ERR_REDIRECT', `${who}: redirect to another origin (${origin}) is not followed`, details);
}
