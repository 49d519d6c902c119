import type { ServerResponse } from 'node:http';
import { invalidConfig } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import type { ServerLifecycle } from './lifecycle.js';
import { writeJson } from './responses.js';

/** Paths of the health routes; `false` leaves a route out. */
export interface HealthRoutesOptions {
  /** Liveness: 200 while the process can answer. Default `'/health/live'`. */
  readonly liveness?: string | false;
  /** Readiness: 200 when started and not draining, else 503. Default `'/health/ready'`. */
  readonly readiness?: string | false;
}

/** Validated {@link HealthRoutesOptions}. */
export interface HealthRoutes {
  readonly liveness: string | undefined;
  readonly readiness: string | undefined;
}

const KNOWN = ['liveness', 'readiness'];

function path(value: unknown, option: string, fallback: string): string | undefined {
  if (value === false) return undefined;
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !value.startsWith('/')) throw invalidConfig(option, "a path such as '/health/ready', or false", value);
  return value;
}

/** Validates health route options; errors are `ERR_INVALID_CONFIG` naming `<option>.<name>`. */
export function resolveHealthRoutes(options: HealthRoutesOptions | undefined, option = 'health'): HealthRoutes {
  const o = checkOptions(options === undefined ? {} : options, option, KNOWN);
  return {
    liveness: path(o['liveness'], `${option}.liveness`, '/health/live'),
    readiness: path(o['readiness'], `${option}.readiness`, '/health/ready'),
  };
}

/** The answer of a health route: status code and JSON body (`{ status, state, inFlight }`). */
export function healthAnswer(lifecycle: ServerLifecycle, kind: 'liveness' | 'readiness'): { status: number; body: Record<string, unknown> } {
  const ok = kind === 'liveness' ? lifecycle.live : lifecycle.ready;
  return {
    status: ok ? 200 : 503,
    body: { status: ok ? 'ok' : lifecycle.state, state: lifecycle.state, inFlight: lifecycle.inFlight },
  };
}

/** Writes a health answer; `Cache-Control: no-store` so no proxy answers for us. */
export function writeHealth(res: ServerResponse, lifecycle: ServerLifecycle, kind: 'liveness' | 'readiness'): void {
  const answer = healthAnswer(lifecycle, kind);
  writeJson(res, answer.status, answer.body, { 'cache-control': 'no-store' });
}
