import type { Duration } from '../core/duration.js';
import type { Outcome } from '../core/outcome.js';
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
   * caller, as `request()` returns a final 5xx.
   */
  readonly classify?: ((result: T) => Outcome) | undefined;
  /** Classifies an error the function threw. Default `classifyError` (by code: connect, reset, timeout; others fatal). */
  readonly classifyError?: ((error: unknown) => Outcome) | undefined;
  /** Releases a returned value that will not reach the caller (a retried response, a hedging loser). Default none. */
  readonly discard?: ((result: T) => void) | undefined;
  /** False when an attempt consumes what it cannot send again (a streamed body): the call is then never retried. Default true. */
  readonly replayable?: boolean | undefined;
}
