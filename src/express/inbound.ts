import { InboundStats } from '../server/inbound-stats.js';
import { inboundContextOf, resolveInboundOptions, runInbound, type InboundOptions } from '../server/inbound-scope.js';
import { writeDeadlineExceeded } from '../server/responses.js';
import { loadTraceApi, traceApiSettled } from '../server/trace-context.js';
import type { Middleware } from './middleware.js';

/** The middleware returned by {@link inbound}, with its counters (`stats.snapshot()`). */
export type InboundMiddleware = Middleware & { readonly stats: InboundStats };

/**
 * Express middleware that runs the rest of each request inside meshkit's
 * inbound context: the deadline from `x-meshkit-deadline` (or `grpc-timeout`)
 * and, when `@opentelemetry/api` is installed, the caller's trace context
 * (extracted by the registered propagator, or read from `traceparent` as W3C
 * Trace Context when none is registered). Every meshkit call made while handling the request, however
 * deep, inherits what is left of the deadline and continues the trace; nothing
 * is passed by hand. A request whose deadline has already passed is answered
 * 504 and no later middleware or handler runs.
 *
 * Put it early (before body parsers and routes). Defaults: no deadline for a
 * request without the header, a caller may ask for at most 5 minutes
 * (`deadline.max`), `grpc-timeout` read too. Malformed headers are ignored,
 * and counted with cut and spent ones in `middleware.stats`. Throws
 * `ERR_INVALID_CONFIG` naming `inbound.<option>`, unknown keys included.
 */
export function inbound(options?: InboundOptions): InboundMiddleware {
  const settings = resolveInboundOptions(options);
  const stats = new InboundStats();
  const tracing = loadTraceApi();
  const middleware: Middleware = (req, res, next) => {
    const context = inboundContextOf(req.headers, settings, settings.clock.now(), stats);
    if (context === undefined) {
      writeDeadlineExceeded(res);
      return;
    }
    if (traceApiSettled()) {
      runInbound(context, req.headers, () => next());
      return;
    }
    // Only the first requests of the process can get here, while the optional import settles.
    void tracing.then(() => runInbound(context, req.headers, () => next()));
  };
  return Object.assign(middleware, { stats });
}
