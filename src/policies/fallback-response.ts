import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { invalidConfig } from '../core/errors.js';
import { HEADER_EXPECTATION, headerValues } from '../core/header-values.js';
import { checkOptions, isOptionsObject, readNumber } from '../core/options.js';
import type { HttpResponse } from '../transports/http-types.js';

/**
 * A body that behaves like undici's `BodyReadable` (a Node `Readable` with the
 * fetch body mixin: `text()`, `json()`, `bytes()`, `arrayBuffer()`, `blob()`,
 * `dump()`, `bodyUsed`), holding bytes already in memory. Single use, like a
 * real body.
 */
class StaticBody extends Readable {
  constructor(bytes: Uint8Array) {
    super();
    if (bytes.byteLength > 0) this.push(bytes);
    this.push(null);
  }

  override _read(): void {}

  /** Never a web stream: as undici's body, read it with the methods below. */
  get body(): undefined {
    return undefined;
  }

  get bodyUsed(): boolean {
    return this.readableDidRead || this.destroyed;
  }

  async bytes(): Promise<Uint8Array> {
    if (this.bodyUsed) throw new TypeError('Body is unusable: the body has already been read');
    const chunks: Buffer[] = [];
    for await (const chunk of this) chunks.push(chunk as Buffer);
    return new Uint8Array(Buffer.concat(chunks));
  }

  async text(): Promise<string> {
    return Buffer.from(await this.bytes()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async blob(): Promise<Blob> {
    return new Blob([await this.bytes()]);
  }

  formData(): Promise<never> {
    return Promise.reject(new TypeError('formData() is not supported by undici bodies'));
  }

  /** Discards the rest of the body; resolves once it ended. */
  dump(): Promise<void> {
    if (this.destroyed || this.readableEnded) return Promise.resolve();
    return new Promise((resolve) => {
      this.once('close', resolve);
      this.resume();
    });
  }
}

/** Options of {@link staticResponse}. */
export interface StaticResponseOptions {
  /** Response headers (lower-case names, as undici gives them). Default: `content-type: text/plain; charset=utf-8` when there is a body. */
  readonly headers?: IncomingHttpHeaders;
  /** Status text. Default `''`. */
  readonly statusText?: string;
}

const STATIC_RESPONSE_KEYS: readonly (keyof StaticResponseOptions)[] = ['headers', 'statusText'];

/**
 * `body` as JSON text; `ERR_INVALID_CONFIG` (naming `staticResponse.body`,
 * JSON.stringify's error as `cause`) for what it cannot serialise: a BigInt,
 * a cycle, a throwing getter, or a `toJSON` that gives no value.
 */
function toJson(body: object): string {
  let json: unknown;
  let cause: unknown;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    cause = error;
  }
  if (typeof json === 'string') return json;
  throw invalidConfig('staticResponse.body', 'an object JSON.stringify can serialise (no BigInt, no cycle, a toJSON giving a value)', body, cause === undefined ? undefined : { cause });
}

/**
 * `headers` with lower-case names, as undici gives them (a caller reading
 * `headers['content-type']` would miss `Content-Type`). `ERR_INVALID_CONFIG`
 * naming `staticResponse.headers.<name>` for a name that is not a token, a
 * value that is not a string (or a list of them) or carries CR, LF or NUL, or
 * two names that differ only in case.
 */
function lowerCaseHeaders(given: unknown): IncomingHttpHeaders {
  if (!isOptionsObject(given)) throw invalidConfig('staticResponse.headers', 'an object of header values', given);
  // A Map, then fromEntries: names such as `constructor` or `__proto__` stay plain own fields.
  const headers = new Map<string, string | string[]>();
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const values = headerValues(name, value);
    if (values === undefined) throw invalidConfig(`staticResponse.headers.${name}`, HEADER_EXPECTATION, value);
    const lower = name.toLowerCase();
    if (headers.has(lower)) throw invalidConfig(`staticResponse.headers.${name}`, `one header per name (\`${lower}\` is given twice, in other cases)`, value);
    headers.set(lower, Array.isArray(value) ? [...values] : values[0] as string);
  }
  return Object.fromEntries(headers);
}

/**
 * Builds a response shaped like the one `client.request()` resolves with
 * (undici's `{ statusCode, headers, body, trailers }`), with a body held in
 * memory. Use it in a {@link fallback} handler of an HTTP client (whose callers
 * and `client.fetch()` expect a response object), or wherever a synthetic
 * response is needed (fault injection's aborts use it). The body is single use:
 * build a new response per call. Strings are sent as UTF-8; objects that are
 * not bytes are sent as JSON with `content-type: application/json`.
 * Throws `ERR_INVALID_CONFIG` naming `staticResponse.<option>` for a status
 * outside 100-599, a body of another type or one JSON cannot hold (a BigInt,
 * a cycle, a `toJSON` giving no value; the `cause` says why), a header that
 * is not a token with string values free of CR, LF and NUL, or a bad or
 * unknown option. Header names are lower-cased.
 */
export function staticResponse(status: number, body: string | Uint8Array | object = '', options: StaticResponseOptions = {}): HttpResponse {
  readNumber(status, 'staticResponse.status', 0, { min: 100, max: 599, integer: true });
  if (body === null || (typeof body !== 'string' && typeof body !== 'object')) {
    throw invalidConfig('staticResponse.body', 'a string, bytes or an object to send as JSON', body);
  }
  const given = checkOptions(options, 'staticResponse', STATIC_RESPONSE_KEYS);
  const ownHeaders = given['headers'] === undefined ? undefined : lowerCaseHeaders(given['headers']);
  if (given['statusText'] !== undefined && typeof given['statusText'] !== 'string') {
    throw invalidConfig('staticResponse.statusText', 'a string', given['statusText']);
  }
  let bytes: Uint8Array;
  let contentType: string | undefined;
  if (typeof body === 'string') {
    bytes = Buffer.from(body, 'utf8');
    contentType = 'text/plain; charset=utf-8';
  } else if (body instanceof Uint8Array) {
    bytes = body;
    contentType = 'application/octet-stream';
  } else {
    bytes = Buffer.from(toJson(body), 'utf8');
    contentType = 'application/json';
  }
  const headers: IncomingHttpHeaders = ownHeaders ?? (bytes.byteLength > 0 ? { 'content-type': contentType } : {});
  headers['content-length'] ??= String(bytes.byteLength);
  return {
    statusCode: status,
    statusText: options.statusText ?? '',
    headers,
    body: new StaticBody(bytes) as unknown as HttpResponse['body'],
    trailers: {},
    opaque: null,
    context: {},
  };
}
