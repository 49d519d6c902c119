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

/** Codes of transport-level timeouts (undici's own header and body timeouts). */
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Classifies an error thrown by a transport or a governed function from its
 * `code` (Node and undici codes, checked on `error.cause` too). Unknown
 * errors are failures that are not retried.
 */
export function classifyError(error: unknown): Outcome {
  if (isMeshkitError(error)) {
    switch (error.code) {
      case 'ERR_TIMEOUT': return Outcomes.timeout;
      case 'ERR_DEADLINE_EXCEEDED': return Outcomes.deadline;
      case 'ERR_ABORTED':
      case 'ERR_CLIENT_CLOSED': return Outcomes.aborted;
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
    }
    current = (current as { cause?: unknown }).cause;
  }
  return Outcomes.error;
}
