/**
 * Stable error codes. A code never changes meaning once released; match on
 * `error.code`, never on the message.
 */
export type MeshkitErrorCode =
  /** An option given to the builder or a factory is invalid. */
  | 'ERR_INVALID_CONFIG'
  /** An argument of one call (`request`, `fetch`, `call`) is invalid. */
  | 'ERR_INVALID_ARGUMENT'
  /** Discovery has no endpoint to send the call to (none known, or none left to pick). */
  | 'ERR_NO_ENDPOINTS'
  /** The call's total deadline passed before it completed. */
  | 'ERR_DEADLINE_EXCEEDED'
  /** One attempt ran past its per-try timeout (retryable for idempotent calls). */
  | 'ERR_TIMEOUT'
  /** The caller's AbortSignal aborted the call. */
  | 'ERR_ABORTED'
  /** The client was closed before or while the call ran. */
  | 'ERR_CLIENT_CLOSED'
  /** A circuit breaker is open and rejected the call without sending it. */
  | 'ERR_CIRCUIT_OPEN'
  /** A concurrency limit, rate limit or load shedder rejected the call. */
  | 'ERR_LIMIT_EXCEEDED'
  /** A redirect pointed somewhere meshkit will not follow (another origin, or too many hops). */
  | 'ERR_REDIRECT'
  /** A fault-injection policy failed the call on purpose. */
  | 'ERR_FAULT_INJECTED'
  /**
   * The upstream failed the call: the connection was refused or reset, or the
   * transport (or the governed function) threw. `cause` is the original
   * error, with its own code; `details.reason` is how meshkit classified it
   * (`'connect'`, `'reset'`, `'error'`).
   */
  | 'ERR_UPSTREAM'
  /**
   * Mutual TLS: the server's certificate chains to the trusted roots but does
   * not carry the SPIFFE ID of the service being called (`details.expected`,
   * `details.presented`), or no identity is usable (`details.reason`).
   */
  | 'ERR_PEER_IDENTITY'
  /** The callee refused the caller: no intention (or authorizer) allows it. Answered as HTTP 403. */
  | 'ERR_FORBIDDEN';

/** Whose doing an error is; see `Blame` in core/outcome.ts. */
type ErrorBlame = 'upstream' | 'caller' | 'local';

/** Whose doing each code is when the error does not say otherwise. */
const BLAME_BY_CODE: Readonly<Record<MeshkitErrorCode, ErrorBlame>> = {
  ERR_INVALID_CONFIG: 'local',
  ERR_INVALID_ARGUMENT: 'caller',
  ERR_NO_ENDPOINTS: 'upstream',
  ERR_DEADLINE_EXCEEDED: 'upstream',
  ERR_TIMEOUT: 'upstream',
  ERR_ABORTED: 'caller',
  ERR_CLIENT_CLOSED: 'local',
  ERR_CIRCUIT_OPEN: 'local',
  ERR_LIMIT_EXCEEDED: 'local',
  ERR_REDIRECT: 'upstream',
  ERR_FAULT_INJECTED: 'upstream',
  ERR_UPSTREAM: 'upstream',
  ERR_PEER_IDENTITY: 'upstream',
  ERR_FORBIDDEN: 'caller',
};

/** Options of {@link MeshkitError} beyond `cause`. */
export interface MeshkitErrorOptions extends ErrorOptions {
  /** Whose doing the error is, when it differs from its code's usual party (a deadline the caller set). */
  readonly blame?: ErrorBlame;
}

/** Extra, code-specific facts about an error (the option name, the bad value, ...). */
export interface MeshkitErrorDetails {
  readonly [key: string]: unknown;
}

/**
 * The one error class a call rejects with. Errors raised by a transport or a
 * governed function (undici's `UND_ERR_SOCKET`, `ECONNREFUSED`, ...) reach
 * the caller as the `cause` of an `ERR_UPSTREAM`, so their own codes are
 * still there to read.
 */
export class MeshkitError extends Error {
  override readonly name = 'MeshkitError';
  readonly code: MeshkitErrorCode;
  readonly details: MeshkitErrorDetails;
  /**
   * Whose doing this error is: `'upstream'` (it failed or was too slow for the
   * client's own bounds), `'caller'` (its abort, its deadline, its request) or
   * `'local'` (the client closed, a policy refused). Only upstream failures
   * move breakers, ejection, latency estimates and limits.
   */
  readonly blame: ErrorBlame;
  /** The service of the call that failed; set when a call ends with this error. */
  readonly service: string | undefined = undefined;
  /** Attempts the call made (0 when it was refused before any); set when a call ends with this error. */
  readonly attempts: number | undefined = undefined;
  /** The id (`host:port`) of the last endpoint tried; undefined when none was. Set when a call ends with this error. */
  readonly endpoint: string | undefined = undefined;

  constructor(code: MeshkitErrorCode, message: string, details: MeshkitErrorDetails = {}, options?: MeshkitErrorOptions) {
    super(message, options);
    this.code = code;
    this.details = details;
    this.blame = options?.blame ?? BLAME_BY_CODE[code] ?? 'upstream';
  }
}

/**
 * @internal Stamps the call an error ends: its service, attempts and last
 * endpoint. The first call to end with an error keeps it (an error passed
 * on by a fallback keeps the call it came from).
 */
export function stampCall(error: MeshkitError, service: string, attempts: number, endpoint: string | undefined): void {
  if (error.service !== undefined) return;
  const writable = error as { -readonly [K in 'service' | 'attempts' | 'endpoint']: MeshkitError[K] };
  writable.service = service;
  writable.attempts = attempts;
  writable.endpoint = endpoint;
}

/**
 * Whose doing `error` is (see {@link MeshkitError.blame}): a MeshkitError
 * says; any other error is the upstream's (a transport failure).
 */
export function blameOf(error: unknown): ErrorBlame {
  return error instanceof MeshkitError ? error.blame : 'upstream';
}

/** True when `value` is a {@link MeshkitError}, optionally with the given code. */
export function isMeshkitError(value: unknown, code?: MeshkitErrorCode): value is MeshkitError {
  return value instanceof MeshkitError && (code === undefined || value.code === code);
}

/** Describes a value for an error message without dumping large objects. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null || typeof value !== 'object') return String(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return 'an object';
  }
}

/** Builds the `ERR_INVALID_CONFIG` error: names the option, the expectation and the bad value. */
export function invalidConfig(option: string, expected: string, value: unknown, options?: ErrorOptions): MeshkitError {
  return new MeshkitError(
    'ERR_INVALID_CONFIG',
    `Invalid option ${option}: expected ${expected}, got ${describeValue(value)}`,
    { option, expected, value },
    options,
  );
}

/**
 * A string with its query (and fragment) cut: paths and URLs that reach an
 * error message or a log must not carry tokens, signatures or keys.
 */
export function withoutQuery(text: string): string {
  const cut = text.search(/[?#]/);
  return cut === -1 ? text : `${text.slice(0, cut)}?<redacted>`;
}

/**
 * Builds the `ERR_INVALID_ARGUMENT` error for a bad per-call argument. A
 * string value is shown without its query string, in the message and in
 * `details.value` alike: both end up in logs.
 */
export function invalidArgument(argument: string, expected: string, value: unknown, options?: ErrorOptions): MeshkitError {
  const shown = typeof value === 'string' ? withoutQuery(value) : value;
  return new MeshkitError(
    'ERR_INVALID_ARGUMENT',
    `Invalid argument ${argument}: expected ${expected}, got ${describeValue(shown)}`,
    { argument, expected, value: shown },
    options,
  );
}
