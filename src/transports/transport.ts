import type { AttemptContext } from '../core/attempt.js';
import type { CallTransport } from '../core/call-transport.js';
import type { Endpoint } from '../core/endpoint.js';

/**
 * Performs one attempt against one endpoint. A transport owns its
 * connections (per endpoint) and releases them when endpoints leave the set
 * and on close.
 */
export interface Transport<Req, Res> extends CallTransport<Req, Res> {
  /** A short name (`undici`, `got`, `grpc`). */
  readonly name: string;
  /**
   * Sends `request` to `endpoint`. Must stop work and settle promptly when
   * `attempt.signal` aborts (the per-try timeout, the caller, or close()).
   */
  send(endpoint: Endpoint, request: Req, attempt: AttemptContext): Promise<Res>;
  /** Releases a response that will not reach the caller (a retried 503, a hedging loser). */
  discard(response: Res): void;
  /** The endpoint set changed: release what belongs to endpoints that left. */
  endpointsChanged?(endpoints: readonly Endpoint[]): void;
  /** Graceful: lets requests in flight finish, then releases everything. */
  close(): Promise<void>;
  /** Immediate: aborts requests in flight (response bodies being read included) with `reason`, and releases everything. */
  destroy(reason?: Error): Promise<void>;
}
