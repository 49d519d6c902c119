import type { Duration } from '../core/duration.js';
import type { Outcome } from '../core/outcome.js';
import type { HttpBody, HttpHeaders } from '../transports/http-types.js';

/** Options every governed call accepts. */
export interface CallOptions {
  /** Cancels the call and every attempt in flight. Default none; anything but an `AbortSignal` is `ERR_INVALID_ARGUMENT`. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Whether the call may be sent more than once. Default: true for GET, HEAD,
   * OPTIONS, PUT, DELETE, TRACE and requests with an `Idempotency-Key` header;
   * false otherwise, and false for `client.call` unless set. Anything but a
   * boolean (`'false'`) is `ERR_INVALID_ARGUMENT`.
   */
  readonly idempotent?: boolean | undefined;
  /**
   * A total timeout for this call; the tighter of it and the client's
   * `timeout.total` wins. Default none. 0, a negative or an unparsable value
   * is `ERR_INVALID_ARGUMENT` (omit it for the client's bound).
   */
  readonly timeout?: Duration | undefined;
  /**
   * Routing key for hash-based balancers (a user or session id): equal keys go
   * to the same endpoint. Default none. A string: anything else (a number) is
   * `ERR_INVALID_ARGUMENT`.
   */
  readonly key?: string | undefined;
  /**
   * A named subset from `.subsets()` to send this call to (`'v2'`). Default:
   * the client's split, or every endpoint. A name the client does not have
   * (any name, on a client without subsets) is `ERR_INVALID_ARGUMENT`.
   */
  readonly subset?: string | undefined;
}

/** Options of `client.request`: the fast path on undici. */
export interface RequestOptions extends CallOptions {
  /** Path and query, starting with `/`. Default `/`. */
  readonly path?: string;
  /** HTTP method, sent as given. Default `GET`. Anything but a non-empty string is `ERR_INVALID_ARGUMENT`. */
  readonly method?: string;
  /** Request headers. Default none. */
  readonly headers?: HttpHeaders;
  /** Request body. Strings and byte arrays are re-sent on retry; streams make the call non-retryable. Not with `json`. */
  readonly body?: HttpBody;
  /**
   * Query parameters appended to `path` (after any query it has), encoded
   * like `URLSearchParams`: `{ page: 2, tag: ['a', 'b'] }` gives
   * `?page=2&tag=a&tag=b`; `undefined` values are left out. Default none.
   */
  readonly query?: QueryParameters | URLSearchParams | undefined;
  /**
   * A JSON body: sent as `JSON.stringify(json)` with `content-type:
   * application/json` (unless the call's headers set one). Re-sent on retry.
   * Not with `body`. Default none.
   */
  readonly json?: unknown;
}

/** One query parameter's value: a scalar or a list of them (repeated), `undefined` to leave it out. */
export type QueryValue = string | number | boolean | bigint | readonly (string | number | boolean | bigint)[] | undefined;

/** Query parameters by name, for `request({ query })`. */
export type QueryParameters = Readonly<Record<string, QueryValue>>;

/**
 * Per-client request defaults, set with `ClientBuilder.defaults()`; they
 * apply to `request()` and `fetch()` (not to `call()`).
 */
export interface RequestDefaults {
  /**
   * A path prefix for every request: with `'/api/v1'`, `request({ path:
   * '/orders' })` sends `/api/v1/orders`. Starts with `/`; a trailing `/`
   * is dropped. Default none.
   */
  readonly basePath?: string;
  /**
   * Headers sent with every request (`user-agent`, `authorization`); a
   * header of the same name (any case) set by the call wins. Default none.
   */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
}

/**
 * Options of `client.call`: the common ones plus how to read what the
 * function returns, so adapters (got, gRPC, ...) classify attempts the way
 * `request()` does.
 */
export interface GovernedCallOptions<T = unknown> extends CallOptions {
  /**
   * Classifies a value the function returned. Default: every value is a
   * success. Return a failed, retryable outcome for a response that asks for
   * a retry (an HTTP 503); if no retry follows, the value still reaches the
   * caller, as `request()` returns a final 5xx. If it throws (or returns no
   * Outcome), the call ends, unretried, with `ERR_INVALID_ARGUMENT` (blame
   * `'caller'`, what it threw as `cause`).
   */
  readonly classify?: ((result: T) => Outcome) | undefined;
  /**
   * Classifies an error the function threw. Default `classifyError` (by code:
   * connect, reset, timeout; others fatal). Throwing ends the call as for `classify`.
   */
  readonly classifyError?: ((error: unknown) => Outcome) | undefined;
  /**
   * Releases a returned value that will not reach the caller (a retried
   * response, a hedging loser). Default none. What it throws is ignored.
   */
  readonly discard?: ((result: T) => void) | undefined;
  /**
   * False when an attempt consumes what it cannot send again (a streamed
   * body): the call is then never retried. Default true. Anything but a
   * boolean is `ERR_INVALID_ARGUMENT`, as is a `classify`, `classifyError`
   * or `discard` that is not a function.
   */
  readonly replayable?: boolean | undefined;
}
