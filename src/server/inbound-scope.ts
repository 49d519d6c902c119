import type { IncomingHttpHeaders } from 'node:http';
import { runWithInbound, type InboundContext } from '../core/inbound-context.js';
import { invalidConfig } from '../core/errors.js';
import { inboundDeadline, resolveDeadlineOptions, type InboundDeadlineOptions, type InboundDeadlineSettings } from './deadline.js';
import { runInTraceContext } from './trace-context.js';

/** What the inbound middleware / plugin reads from each request. */
export interface InboundOptions {
  /** This service's name, put in the inbound context (telemetry, errors). Default none. */
  readonly service?: string;
  /** How the deadline header is read. Default: `x-meshkit-deadline` and `grpc-timeout`, no default deadline, no cap. */
  readonly deadline?: InboundDeadlineOptions;
}

/** Validated {@link InboundOptions}. */
export interface InboundSettings {
  readonly service: string | undefined;
  readonly deadline: InboundDeadlineSettings;
}

/** Validates inbound options; errors are `ERR_INVALID_CONFIG` naming `<option>.<name>`. */
export function resolveInboundOptions(options: InboundOptions | undefined, option = 'inbound'): InboundSettings {
  if (options === undefined) return { service: undefined, deadline: resolveDeadlineOptions(undefined) };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidConfig(option, 'an options object', options);
  const service = options.service;
  if (service !== undefined && (typeof service !== 'string' || service === '')) throw invalidConfig(`${option}.service`, 'a non-empty string', service);
  return { service, deadline: resolveDeadlineOptions(options.deadline, `${option}.deadline`) };
}

/**
 * The inbound context of a request that arrived at `now` (a
 * `systemClock.now()` time), or `undefined` when its deadline has already
 * passed: such a request is answered 504 and its handler never runs.
 */
export function inboundContextOf(headers: IncomingHttpHeaders, settings: InboundSettings, now: number): InboundContext | undefined {
  const deadline = inboundDeadline(headers, settings.deadline, now);
  if (deadline <= now) return undefined;
  return { service: settings.service, deadline };
}

/**
 * Runs `fn` (the rest of the request's handling) inside the inbound context
 * and, when OpenTelemetry is present, inside the caller's trace context: every
 * meshkit call made from `fn`, however asynchronous, inherits both.
 */
export function runInbound<T>(context: InboundContext, headers: IncomingHttpHeaders, fn: () => T): T {
  return runWithInbound(context, () => runInTraceContext(headers, fn));
}
