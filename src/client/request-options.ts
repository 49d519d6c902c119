import type { Duration } from '../core/duration.js';
import type { HttpBody, HttpHeaders } from '../transports/http-types.js';

/** Options every governed call accepts. */
export interface CallOptions {
  /** Cancels the call and every attempt in flight. Default none. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Whether the call may be sent more than once. Default: true for GET, HEAD,
   * OPTIONS, PUT, DELETE, TRACE and requests with an `Idempotency-Key` header;
   * false otherwise, and false for `client.call` unless set.
   */
  readonly idempotent?: boolean | undefined;
  /** A total timeout for this call; the tighter of it and the client's `timeout.total` wins. Default none. */
  readonly timeout?: Duration | undefined;
  /** Routing key for hash-based balancers (a user or session id): equal keys go to the same endpoint. Default none. */
  readonly key?: string | undefined;
  /** A named subset from `.subsets()` to send this call to (`'v2'`). Default: the client's split, or every endpoint. */
  readonly subset?: string | undefined;
}

/** Options of `client.request`: the fast path on undici. */
export interface RequestOptions extends CallOptions {
  /** Path and query, starting with `/`. Default `/`. */
  readonly path?: string;
  /** HTTP method, sent as given. Default `GET`. */
  readonly method?: string;
  /** Request headers. Default none. */
  readonly headers?: HttpHeaders;
  /** Request body. Strings and byte arrays are re-sent on retry; streams make the call non-retryable. */
  readonly body?: HttpBody;
}
