import type { CallContext } from '../core/call-context.js';
import { blameOf } from '../core/errors.js';

/**
 * Whether a call's error says nothing about the upstream's health, so that a
 * breaker must not count it (see `blameOf`): the caller gave up
 * (`ERR_ABORTED`, or its signal fired), its own deadline ran out first, its
 * request was refused locally (`ERR_INVALID_ARGUMENT`), the client is closing
 * (`ERR_CLIENT_CLOSED`), or an inner admission policy refused the call
 * locally (`ERR_LIMIT_EXCEEDED`: nothing was sent).
 * @internal Shared by the service-level breakers (meshkit's engine and the opossum one).
 */
export function isIgnoredEnd(error: unknown, call: CallContext): boolean {
  return call.stopped !== undefined || blameOf(error) !== 'upstream';
}
