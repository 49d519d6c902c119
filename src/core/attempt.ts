import type { CallContext } from './call-context.js';
import type { Endpoint } from './endpoint.js';

/** What a transport or a governed function sees of the attempt it performs. */
export interface AttemptContext {
  /** The logical call this attempt belongs to. */
  readonly call: CallContext;
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly number: number;
  /** The endpoint picked for this attempt. */
  readonly endpoint: Endpoint;
  /** Absolute clock time by which the call must finish; `Infinity` when unbounded. */
  readonly deadline: number;
  /** Clock time when the attempt started (so `deadline - startedAt` is what it had left). */
  readonly startedAt: number;
  /**
   * Aborts when this attempt times out, the call is aborted or the client
   * closes. Created on first access, so attempts that never look pay nothing.
   */
  readonly signal: AbortSignal;
  /**
   * Headers telemetry asks to send with this attempt (W3C `traceparent`,
   * `tracestate`, baggage); undefined when there are none. The HTTP
   * transports send them; a `client.call` function should carry them too
   * (as gRPC metadata, say) so the next hop continues the trace.
   */
  readonly outboundHeaders: Readonly<Record<string, string>> | undefined;
}
