import { Metadata } from '@grpc/grpc-js';
import type { AttemptContext } from '../core/attempt.js';
import { DEADLINE_HEADER } from '../transports/deadline-header.js';

/**
 * The metadata of one attempt: the caller's (copied), the trace headers
 * telemetry added (`traceparent`, ...) and `x-meshkit-deadline` with the
 * call's remaining time; grpc-js sends the deadline itself as `grpc-timeout`.
 * `remainingMs` defaults to what the attempt had left when it started (pass
 * a fresher value when the attempt waited before sending).
 */
export function attemptMetadata(base: Metadata | undefined, attempt: AttemptContext, remainingMs = attempt.deadline - attempt.startedAt): Metadata {
  const metadata = base === undefined ? new Metadata() : base.clone();
  const extra = attempt.outboundHeaders;
  if (extra !== undefined) for (const name of Object.keys(extra)) metadata.set(name.toLowerCase(), extra[name] as string);
  if (remainingMs !== Infinity) metadata.set(DEADLINE_HEADER, String(Math.max(0, Math.floor(remainingMs))));
  return metadata;
}

/** The gRPC deadline of an attempt: the call's remaining time from now, as a Date; undefined when unbounded. */
export function attemptDeadline(attempt: AttemptContext): Date | undefined {
  const remaining = attempt.deadline - attempt.startedAt;
  return remaining === Infinity ? undefined : new Date(grpcWallNow() + Math.max(0, remaining));
}

/** @internal Milliseconds left until `deadline` (a Date, from {@link attemptDeadline}), Infinity when there is none. */
export function remainingUntil(deadline: Date | undefined): number {
  return deadline === undefined ? Infinity : deadline.getTime() - grpcWallNow();
}

/**
 * Epoch milliseconds as grpc-js reads them. grpc-js takes a deadline as a
 * wall-clock Date and checks it against its own `Date.now()`, so no injected
 * clock can stand in here: the one place meshkit/grpc reads the wall clock.
 * @internal
 */
export function grpcWallNow(): number {
  return Date.now();
}
