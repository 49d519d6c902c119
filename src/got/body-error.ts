import { RequestError } from 'got';
import type { BodyCut } from './body-guard.js';

/**
 * got's `beforeError` hook for one request: when meshkit cut the body short
 * (deadline, caller's abort, stall), got saw only a destroyed response and
 * reports `ECONNRESET`; this gives the caller meshkit's reason instead, in
 * the shape a failure before the headers has (a got `RequestError` whose
 * `code` is the `MeshkitError`'s and whose `cause` is that error). An error
 * that already carries the same code (got's own `AbortError`) is kept.
 */
export function reportBodyCut(error: RequestError, cut: BodyCut): RequestError {
  const reason = cut.reason;
  if (reason === undefined || error.code === reason.code) return error;
  const replaced = new RequestError(reason.message, reason, error.request ?? error.options);
  replaced.stack = error.stack ?? replaced.stack;
  return replaced;
}
