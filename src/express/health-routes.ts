import { resolveHealthRoutes, writeHealth, type HealthRoutesOptions } from '../server/health-routes.js';
import type { ServerLifecycle } from '../server/lifecycle.js';
import type { Middleware } from './middleware.js';

/**
 * Express middleware that answers the liveness and readiness routes of
 * `lifecycle` (GET or HEAD): liveness 200 until the server has closed;
 * readiness 200 once listening and 503 from the moment draining starts.
 * Bodies are JSON `{ status, state, inFlight }`. Other requests pass through.
 * Mount it first, so probes bypass deadlines and shedding.
 * Defaults `/health/live` and `/health/ready`.
 */
export function health(lifecycle: ServerLifecycle, options?: HealthRoutesOptions): Middleware {
  const routes = resolveHealthRoutes(options);
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path === routes.liveness) return writeHealth(res, lifecycle, 'liveness');
    if (path === routes.readiness) return writeHealth(res, lifecycle, 'readiness');
    next();
  };
}
