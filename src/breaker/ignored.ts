import type { CallContext } from '../core/call-context.js';
import { blameOf, isMeshkitError } from '../core/errors.js';

/**
 * Whether a call's error says nothing about the upstream's health, so that a
 * breaker must not count it (see `blameOf`): the caller gave up
 * (`ERR_ABORTED`, or its signal fired), its own deadline ran out first, its
 * request was refused locally (`ERR_INVALID_ARGUMENT`), the client is closing
 * (`ERR_CLIENT_CLOSED`), or an inner admission policy refused the call
 * locally (`ERR_LIMIT_EXCEEDED`: nothing was sent). With no error (a
 * result), whether its final outcome is not the upstream's. An error that is not a
 * `MeshkitError` is judged by the outcome of the attempt that raised it,
 * when it is the call's last attempt's error (a caller's failing request
 * stream, passed on as it is), and is the upstream's otherwise.
 * @internal Shared by the service-level breakers (meshkit's engine and the opossum one).
 */
export function isIgnoredEnd(error: unknown, call: CallContext): boolean {
  if (call.stopped !== undefined) return true;
  // A result (no error) is the upstream's only when its final outcome is: a 504 for the caller's deadline spent downstream is not.
  if (error === undefined) {
    const blame = call.current?.outcome?.blame;
    return blame !== undefined && blame !== 'upstream';
  }
  if (isMeshkitError(error)) return blameOf(error) !== 'upstream';
  // blameOf calls every foreign error the upstream's: the classifier's verdict on it knows better.
  const last = call.current;
  return last !== undefined && last.error === error && last.outcome !== undefined && last.outcome.blame !== 'upstream';
}
