import { status } from '@grpc/grpc-js';
import { invalidConfig, isMeshkitError } from '../core/errors.js';
import { Outcomes, type Outcome } from '../core/outcome.js';
import { classifyError } from '../transports/error-classifier.js';
import { isNotConnected } from './channel-ready.js';
import { localDeadlineOutcome } from './local-deadline.js';

/** Default status codes retried on another endpoint: UNAVAILABLE only, as gRPC's retry design (A6) suggests. */
export const DEFAULT_RETRYABLE_CODES: readonly status[] = Object.freeze([status.UNAVAILABLE]);

/**
 * Codes that say the endpoint failed (they count against its health, like an
 * HTTP 5xx); every other code is an answer the service meant to give.
 */
const FAILURE_CODES: ReadonlySet<status> = new Set([status.UNKNOWN, status.INTERNAL, status.UNAVAILABLE, status.DATA_LOSS]);

/**
 * gRPC status to the HTTP status it stands for, as Envoy maps them
 * (`Grpc::Utility::grpcToHttpStatus`): outcomes carry it so outlier
 * detection (UNAVAILABLE = 503, a gateway failure) and telemetry read gRPC
 * and HTTP calls alike.
 */
const HTTP_EQUIVALENT: readonly number[] = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

/** A gRPC status error as grpc-js raises it. */
interface StatusError {
  readonly code: number;
  readonly details?: string;
}

/** Checks a list of retryable gRPC status codes; errors name `option`. @internal */
export function checkRetryableCodes(codes: unknown, option: string): readonly number[] {
  if (!Array.isArray(codes) || !codes.every((code) => Number.isInteger(code) && code > 0 && code <= 16)) {
    throw invalidConfig(option, 'an array of gRPC status codes (1-16)', codes);
  }
  return codes as readonly number[];
}

/** @internal True for grpc-js's status errors (a numeric `code`). */
export function isStatusError(error: unknown): error is StatusError {
  return typeof error === 'object' && error !== null && typeof (error as StatusError).code === 'number';
}

/**
 * Maps gRPC status codes to meshkit outcomes: the connect failure
 * `channelReady` raises (the channel never became READY, so nothing was
 * sent) is retryable for any method; `retryableCodes` are retryable failures
 * (for idempotent methods), whatever their `details` say (the server writes
 * those); DEADLINE_EXCEEDED is a timeout, except the call's own deadline
 * run out on this side (a caller's deadline is the caller's); UNKNOWN,
 * INTERNAL, UNAVAILABLE and DATA_LOSS count against the endpoint; any other
 * code is the service's answer. `outcome.status` is the code's HTTP
 * equivalent (UNAVAILABLE: 503). meshkit's own errors are classified as for
 * any transport. Throws `ERR_INVALID_CONFIG` naming `retryableCodes` unless
 * it is an array of codes 1-16.
 */
export function grpcErrorClassifier(retryableCodes: readonly number[] = DEFAULT_RETRYABLE_CODES): (error: unknown) => Outcome {
  checkRetryableCodes(retryableCodes, 'retryableCodes');
  const table = new Map<number, Outcome>();
  for (let code = 1; code <= 16; code++) {
    const failed = FAILURE_CODES.has(code);
    const retryable = retryableCodes.includes(code);
    const httpStatus = HTTP_EQUIVALENT[code] ?? 500;
    table.set(code, Object.freeze({ reason: failed || retryable ? 'status' : 'ok', blame: 'upstream', ok: !failed, retryable, status: httpStatus }));
  }
  table.set(status.DEADLINE_EXCEEDED, Outcomes.timeout);
  return (error: unknown): Outcome => {
    // Only meshkit's own facts say that nothing was sent, or that the deadline ran out here.
    if (isNotConnected(error)) return Outcomes.connect;
    const deadline = localDeadlineOutcome(error);
    if (deadline !== undefined) return deadline;
    if (isMeshkitError(error) || !isStatusError(error)) return classifyError(error);
    if (error.code === status.CANCELLED) return Outcomes.error;
    return table.get(error.code) ?? Outcomes.error;
  };
}
