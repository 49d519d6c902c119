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
  | 'ERR_FAULT_INJECTED';

/** Extra, code-specific facts about an error (the option name, the bad value, ...). */
export interface MeshkitErrorDetails {
  readonly [key: string]: unknown;
}

/**
 * The one error class meshkit throws for its own decisions. Errors raised by a
 * transport (for example undici's `UND_ERR_SOCKET`) reach the caller unchanged,
 * so their own codes keep working.
 */
export class MeshkitError extends Error {
  override readonly name = 'MeshkitError';
  readonly code: MeshkitErrorCode;
  readonly details: MeshkitErrorDetails;

  constructor(code: MeshkitErrorCode, message: string, details: MeshkitErrorDetails = {}, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
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
export function invalidConfig(option: string, expected: string, value: unknown): MeshkitError {
  return new MeshkitError(
    'ERR_INVALID_CONFIG',
    `Invalid option ${option}: expected ${expected}, got ${describeValue(value)}`,
    { option, expected, value },
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
