import { systemClock } from '../core/clock.js';
import { inboundContextOf, resolveInboundOptions, runInbound, type InboundOptions } from '../server/inbound-scope.js';
import { writeDeadlineExceeded } from '../server/responses.js';
import { loadTraceApi, traceApiSettled } from '../server/trace-context.js';
import type { Middleware } from './middleware.js';

/**
 * Express middleware that runs the rest of each request inside meshkit's
 * inbound context: the deadline from `x-meshkit-deadline` (or `grpc-timeout`)
 * and, when `@opentelemetry/api` is installed, the W3C trace context from
 * `traceparent`. Every meshkit call made while handling the request, however
 * deep, inherits what is left of the deadline and continues the trace; nothing
 * is passed by hand. A request whose deadline has already passed is answered
 * 504 and no later middleware or handler runs.
 *
 * Put it early (before body parsers and routes). Defaults: no deadline for a
 * request without the header, no cap, `grpc-timeout` read too. Throws
 * `ERR_INVALID_CONFIG` naming `inbound.<option>`.
 */
export function inbound(options?: InboundOptions): Middleware {
  const settings = resolveInboundOptions(options);
  const tracing = loadTraceApi();
  return (req, res, next) => {
    const context = inboundContextOf(req.headers, settings, systemClock.now());
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
}
