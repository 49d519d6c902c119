import type { IncomingHttpHeaders } from 'node:http';
import { runWithInbound, type InboundContext } from '../core/inbound-context.js';
import { inboundDeadline, resolveDeadlineOptions } from '../server/deadline.js';
import { withAttemptHeaders } from '../transports/deadline-header.js';
import type { HttpHeaders } from '../transports/http-types.js';
import type { SimHandler, SimHandlerContext, SimHandlerResult, SimRequest } from './backend-behaviour.js';
import type { SimExchange } from './backend-exchange.js';
import type { SimClock } from './event-loop.js';

/** How simulated servers read the deadline header: as the Express middleware does by default. */
const DEADLINE_SETTINGS = resolveDeadlineOptions(undefined);

/** The answer of a request whose deadline was spent before it was served (as the inbound middleware's 504). */
const SPENT: SimHandlerResult = Object.freeze({ status: 504 });

/** A handler that threw: Express's default 500. */
const FAILED: SimHandlerResult = Object.freeze({ status: 500 });

/** Headers as a server sees them: an object with lower-case names, one value each. */
function incomingHeaders(headers: HttpHeaders | null): Record<string, string> {
  const seen: Record<string, string> = {};
  if (headers === null) return seen;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) seen[String(headers[i]).toLowerCase()] = String(headers[i + 1]);
    return seen;
  }
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value !== undefined) seen[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return seen;
}

/**
 * Runs `handler` for a request entering service, the way meshkit's inbound
 * middleware runs a route: the deadline read from the headers the attempt
 * sent (`x-meshkit-deadline`, `grpc-timeout`) and counted from the request's
 * arrival (a wait in the backend's queue spends it), a request whose
 * deadline is already spent answered 504 without running the handler, and
 * the handler run inside the inbound context (on the simulation's clock), so
 * the meshkit calls it makes inherit what is left. Settles the exchange's
 * handler part with the handler's answer (500 when it throws).
 */
export function runHandler(exchange: SimExchange, handler: SimHandler, backend: SimHandlerContext['backend'], clock: SimClock): void {
  const { attempt, request } = exchange;
  const headers = incomingHeaders(withAttemptHeaders(request.headers, attempt.outboundHeaders, attempt.deadline - attempt.startedAt));
  const now = clock.now();
  const deadline = inboundDeadline(headers as IncomingHttpHeaders, DEADLINE_SETTINGS, exchange.arrivedAt);
  const done = (result: SimHandlerResult): void => {
    exchange.result = result;
    exchange.partDone();
  };
  if (deadline <= now) {
    queueMicrotask(() => done(SPENT));
    return;
  }
  const simRequest: SimRequest = { method: request.method ?? 'GET', path: request.path, headers, body: request.body ?? undefined };
  const context: SimHandlerContext = { backend, clock, deadline };
  // The one place the simulator enters meshkit's inbound context: the deadline is on the simulation's clock.
  const inbound: InboundContext = { service: backend.service, deadline, clock };
  queueMicrotask(() => {
    let answer: Promise<SimHandlerResult>;
    try {
      answer = runWithInbound(inbound, () => handler(simRequest, context));
    } catch {
      done(FAILED);
      return;
    }
    Promise.resolve(answer).then((result) => done(result ?? {}), () => done(FAILED));
  });
}
