import { currentInbound } from '../core/inbound-context.js';
import { LoadShedder, type LoadShedderOptions } from '../server/load-shedder.js';
import type { Middleware } from './middleware.js';

/** The middleware returned by {@link shedding}, with its shedder for status (`limit`, `inFlight`, `refused`). */
export type SheddingMiddleware = Middleware & { readonly shedder: LoadShedder };

/**
 * Express middleware for inbound load shedding: admits a request while fewer
 * than the adaptive limit are being handled, else answers 503 with
 * `Retry-After` at once, before any later middleware runs (see
 * {@link LoadShedder} for the limit and defaults: Vegas, `Retry-After: 1`).
 * Put it after {@link inbound} (so answers after the deadline count as
 * overload) and after the health routes (so probes are never shed).
 * Pass a `LoadShedder` to share one limit between several routers.
 */
export function shedding(options?: LoadShedderOptions | LoadShedder): SheddingMiddleware {
  const shedder = options instanceof LoadShedder ? options : new LoadShedder(options);
  const middleware: Middleware = (_req, res, next) => {
    if (shedder.admit(res, currentInbound()?.deadline ?? Infinity)) next();
  };
  return Object.assign(middleware, { shedder });
}
