import type { AttemptContext } from './attempt.js';
import type { Endpoint } from './endpoint.js';

/** The transport half a call needs (see `Transport` in transports/transport.ts). */
export interface CallTransport<Req = unknown, Res = unknown> {
  send(endpoint: Endpoint, request: Req, attempt: AttemptContext): Promise<Res>;
  discard(response: Res): void;
  /**
   * @internal Optional callback form of `send`, preferred when present: the
   * transport reports the result through `attempt.deliver(response)` or
   * `attempt.fail(error)` (exactly once, never synchronously), so no promise
   * or closure is made per attempt.
   */
  start?(endpoint: Endpoint, request: Req, attempt: AttemptSink<Res>): void;
}

/** @internal What {@link CallTransport.start} reports an attempt's result to. */
export interface AttemptSink<Res = unknown> extends AttemptContext {
  deliver(response: Res): void;
  fail(error: unknown): void;
  /** The body of the delivered response failed upstream (not by the caller's doing) while being read. */
  bodyFailed(error: unknown): void;
}
