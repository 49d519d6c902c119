import type { CallContext } from './call-context.js';
import type { Clock } from './clock.js';

/**
 * A policy's admission decision in synchronous form: the executor runs it in
 * line, so a call through several admission policies makes no promise per
 * policy (each `wrap` stage makes one, plus a microtask hop each way, about
 * 150-300 ns a policy on the success path).
 *
 * Contract:
 * - `admit(call)` runs when the call reaches the executor, before its first
 *   attempt, outermost gate first. It returns `undefined` to let the call on,
 *   or the error to refuse it with (the caller receives that error; no
 *   attempt is made). It must not wait for anything: a policy that may have
 *   to queue the call offers no gate for that configuration.
 * - `release(call, error)` runs exactly once for every call this gate
 *   admitted, when the call has its final result and before the caller sees
 *   it, innermost gate first. `error` is what the caller will get, or
 *   `undefined` when the call resolves (an HTTP 5xx response resolves:
 *   `call.current.outcome` says how the final attempt went). A call refused by
 *   an inner gate is released by the outer ones with that refusal, as a
 *   `wrap` stage would see it.
 * - Neither may throw on purpose; the executor reports a throwing `admit` as
 *   the call's error and keeps going after a throwing `release`.
 */
export interface AdmissionGate {
  admit(call: CallContext): Error | undefined;
  release(call: CallContext, error: unknown): void;
}

/** What a policy's `admission` (see `Policy`) learns about the client that runs its gate. */
export interface AdmissionEnvironment {
  /**
   * The client's clock. When it is the policy's own, the gate may read
   * `call.admittedAt` (this clock's time when the call reached the gates)
   * instead of reading the clock again.
   */
  readonly clock: Clock;
}
