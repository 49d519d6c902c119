/** Methods RFC 9110 defines as idempotent: repeating them has the effect of sending them once. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Header names are matched case-insensitively; both spellings are checked to avoid a scan. */
function hasIdempotencyKey(headers: unknown): boolean {
  if (headers === undefined || headers === null) return false;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === 'idempotency-key') return true;
    }
    return false;
  }
  if (typeof (headers as Headers).has === 'function') return (headers as Headers).has('idempotency-key');
  for (const name of Object.keys(headers as object)) {
    if (name.length === 15 && name.toLowerCase() === 'idempotency-key') return true;
  }
  return false;
}

/**
 * Whether an HTTP request may be sent more than once: an idempotent method, an
 * explicit opt-in, or an `Idempotency-Key` header (the server deduplicates).
 * Only a boolean `optIn` counts (`'false'` is not true), and a `method` that
 * is not a string is not idempotent: the client rejects both before asking,
 * so these are the safe answers should a caller not.
 */
export function isIdempotentRequest(method: string, headers: unknown, optIn: boolean | undefined): boolean {
  if (typeof optIn === 'boolean') return optIn;
  if (typeof method !== 'string') return false;
  return IDEMPOTENT_METHODS.has(method) || IDEMPOTENT_METHODS.has(method.toUpperCase()) || hasIdempotencyKey(headers);
}
