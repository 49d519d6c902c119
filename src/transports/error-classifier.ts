import { isMeshkitError } from '../core/errors.js';
import { Outcomes, type Outcome } from '../core/outcome.js';

/** Codes meaning no connection was made: the request never left, so retrying is safe. */
const CONNECT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT',
]);

/** Codes meaning the connection broke under the request: it may or may not have been processed. */
const RESET_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ERR_HTTP2_STREAM_ERROR',
]);

/**
 * Codes of requests refused locally before a byte was sent (or malformed by
 * the caller): an invalid header name or value, a forbidden header, a body
 * whose length does not match. The caller's request is at fault, not the
 * endpoint.
 */
const REFUSED_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'ERR_HTTP_INVALID_HEADER_VALUE', 'ERR_UNESCAPED_CHARACTERS',
  'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_URL', 'ERR_INVALID_PROTOCOL',
]);

/**
 * No identity of our own to present (none loaded yet, or expired): the
 * client's doing, so no endpoint's breaker or ejection moves.
 */
const NO_OWN_IDENTITY: Outcome = Object.freeze({ reason: 'error', blame: 'local', ok: false, retryable: false, status: 0 });

/**
 * A deadline that ran out before anything was sent (a nested client's
 * bulkhead queue, say): meshkit's own doing, so no endpoint is charged.
 */
const LOCAL_DEADLINE: Outcome = Object.freeze({ reason: 'deadline', blame: 'local', ok: false, retryable: false, status: 0 });

/** Codes of transport-level timeouts (undici's own header and body timeouts). */
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Classifies an error thrown by a transport or a governed function from its
 * `code` (Node and undici codes, checked on `error.cause` too). Unknown
 * errors are the upstream's failures that are not retried; a request refused
 * locally (a bad header) is the caller's.
 */
export function classifyError(error: unknown): Outcome {
  if (isMeshkitError(error)) {
    switch (error.code) {
      case 'ERR_TIMEOUT': return Outcomes.timeout;
      case 'ERR_DEADLINE_EXCEEDED': return error.blame === 'caller' ? Outcomes.deadline : error.blame === 'local' ? LOCAL_DEADLINE : Outcomes.totalTimeout;
      case 'ERR_ABORTED': return error.blame === 'caller' ? Outcomes.aborted : Outcomes.cancelled;
      case 'ERR_CLIENT_CLOSED': return Outcomes.cancelled;
      case 'ERR_INVALID_ARGUMENT': return Outcomes.refused;
      // The handshake refused the server's identity: the request was never sent, so another endpoint may be tried.
      case 'ERR_PEER_IDENTITY': return error.blame === 'local' ? NO_OWN_IDENTITY : Outcomes.connect;
      default: return Outcomes.error;
    }
  }
  let current: unknown = error;
  for (let depth = 0; depth < 3 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (CONNECT_CODES.has(code)) return Outcomes.connect;
      if (RESET_CODES.has(code)) return Outcomes.reset;
      if (TIMEOUT_CODES.has(code)) return Outcomes.timeout;
      if (REFUSED_CODES.has(code)) return Outcomes.refused;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return Outcomes.error;
}
