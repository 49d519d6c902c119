import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../core/clock.js';
import { runWithInbound, type InboundContext } from '../core/inbound-context.js';
import { readClock } from '../discovery/read-clock.js';
import { checkOptions, readString } from '../core/options.js';
import { inboundDeadline, resolveDeadlineOptions, type InboundDeadlineOptions, type InboundDeadlineSettings } from './deadline.js';
import type { InboundStats } from './inbound-stats.js';
import { runInTraceContext } from './trace-context.js';

/** What the inbound middleware / plugin reads from each request. */
export interface InboundOptions {
  /** This service's name, put in the inbound context (telemetry, errors). Default none. */
  readonly service?: string;
  /** How the deadline header is read. Default: `x-meshkit-deadline` and `grpc-timeout`, no default deadline, at most 5 minutes. */
  readonly deadline?: InboundDeadlineOptions;
  /** The clock deadlines are measured on (the calls made while serving read what is left on it). Default the system clock. */
  readonly clock?: Clock;
}

/** Validated {@link InboundOptions}. */
export interface InboundSettings {
  readonly service: string | undefined;
  readonly deadline: InboundDeadlineSettings;
  readonly clock: Clock;
}

const KNOWN = ['service', 'deadline', 'clock'];

/**
 * Validates inbound options; errors are `ERR_INVALID_CONFIG` naming
 * `<option>.<name>`, unknown keys included. `known` lists the keys allowed
 * (an adapter with more options of its own passes them all).
 */
export function resolveInboundOptions(options: InboundOptions | undefined, option = 'inbound', known: readonly string[] = KNOWN): InboundSettings {
  const o = checkOptions(options === undefined ? {} : options, option, known);
  return {
    service: readString(o['service'], `${option}.service`),
    deadline: resolveDeadlineOptions(o['deadline'] as InboundDeadlineOptions | undefined, `${option}.deadline`),
    clock: readClock(o['clock'], `${option}.clock`),
  };
}

/**
 * The inbound context of a request that arrived at `now` (a
 * `settings.clock.now()` time), or `undefined` when its deadline has already
 * passed: such a request is answered 504 and its handler never runs.
 * `stats`, when given, counts malformed, cut and spent deadlines.
 */
export function inboundContextOf(headers: IncomingHttpHeaders, settings: InboundSettings, now: number, stats?: InboundStats): InboundContext | undefined {
  const deadline = inboundDeadline(headers, settings.deadline, now, stats);
  if (deadline > now) return { service: settings.service, deadline, clock: settings.clock };
  stats?.countExpired();
  return undefined;
}

/**
 * Runs `fn` (the rest of the request's handling) inside the inbound context
 * and, when OpenTelemetry is present, inside the caller's trace context: every
 * meshkit call made from `fn`, however asynchronous, inherits both.
 */
export function runInbound<T>(context: InboundContext, headers: IncomingHttpHeaders, fn: () => T): T {
  return runWithInbound(context, () => runInTraceContext(headers, fn));
}
