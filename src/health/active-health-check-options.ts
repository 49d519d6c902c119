import { parseDuration, parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readChoice, readNumber, readTlsOptions } from '../core/options.js';

/**
 * Options of `.healthCheck()`: a periodic HTTP probe of every endpoint.
 *
 * Envoy's `HealthCheck` has no defaults for interval, timeout or the
 * thresholds (all are required there); meshkit's defaults follow NGINX Plus
 * (`health_check`: 5 s interval, statuses 2xx-3xx), Kubernetes probes
 * (1 s timeout, one success to recover) and Envoy's jitter semantics
 * (`interval_jitter`: a random amount added to every wait). See
 * docs/balancing.md, "Active health checks".
 */
export interface HealthCheckOptions {
  /** The path probed with `GET`. Default `'/health'`. */
  readonly path?: string;
  /** Time between the end of one probe and the start of the next, before jitter. Default `'5s'`. */
  readonly interval?: Duration;
  /** A probe that has not completed (status and body) within this time fails and is cancelled. Default `'1s'`. */
  readonly timeout?: Duration;
  /**
   * Up to this much is added, uniformly at random, to every wait (Envoy's
   * `interval_jitter`), and the first probe of an endpoint starts at a random
   * point within it, so that clients started together do not probe in step.
   * Default 10 % of `interval`.
   */
  readonly jitter?: Duration;
  /** Failed probes in a row that take a healthy endpoint out of rotation. Default 2. */
  readonly unhealthyThreshold?: number;
  /** Successful probes in a row that bring an unhealthy endpoint back. Default 1. */
  readonly healthyThreshold?: number;
  /** Statuses that count as healthy: codes and inclusive `[from, to]` ranges. Default `[[200, 399]]`. */
  readonly expectedStatuses?: readonly (number | readonly [number, number])[];
  /**
   * Default: the transport's scheme (probes speak as calls do). Set `'https'`
   * only for a transport of your own that does not describe itself
   * (`HttpTransportFactory.connection`).
   */
  readonly protocol?: 'http' | 'https';
  /**
   * TLS options for probes only (`ca`, `cert`, `key`, `servername`,
   * `rejectUnauthorized`); only with `protocol: 'https'`, else
   * `ERR_INVALID_CONFIG` (they would be dropped, the probes sent in clear
   * text). Default: the transport's.
   */
  readonly tls?: Readonly<Record<string, unknown>>;
}

/** Resolved health check settings (milliseconds; status ranges inclusive). */
export interface HealthCheckSettings {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly jitterMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
  readonly expectedStatuses: readonly (readonly [number, number])[];
  readonly protocol: 'http' | 'https';
  readonly tls: Readonly<Record<string, unknown>> | undefined;
}

/** True when `status` is one the settings count as healthy. */
export function isExpectedStatus(settings: HealthCheckSettings, status: number): boolean {
  for (const [from, to] of settings.expectedStatuses) if (status >= from && status <= to) return true;
  return false;
}

function threshold(value: unknown, option: string, fallback: number): number {
  return readNumber(value, option, fallback, { min: 1, max: 1000, integer: true });
}

function statusCode(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599;
}

function statuses(value: unknown, option: string): readonly (readonly [number, number])[] {
  const expected = 'a non-empty array of status codes (100-599) and [from, to] ranges';
  if (!Array.isArray(value) || value.length === 0) throw invalidConfig(option, expected, value);
  return Object.freeze(value.map((item: unknown, i) => {
    if (statusCode(item)) return Object.freeze([item, item] as const);
    if (Array.isArray(item) && item.length === 2 && statusCode(item[0]) && statusCode(item[1]) && item[0] <= item[1]) {
      return Object.freeze([item[0], item[1]] as const);
    }
    throw invalidConfig(`${option}[${i}]`, 'a status code (100-599) or a [from, to] range with from <= to', item);
  }));
}

const HEALTH_CHECK_KEYS: readonly (keyof HealthCheckOptions)[] = [
  'path', 'interval', 'timeout', 'jitter', 'unhealthyThreshold', 'healthyThreshold', 'expectedStatuses', 'protocol', 'tls',
];

/**
 * Validates health check options; errors name `healthCheck.<option>`
 * (unknown keys included). `tls` goes through the options kit's TLS check:
 * unknown TLS keys and wrong types are refused too.
 */
export function resolveHealthCheck(options: HealthCheckOptions): HealthCheckSettings {
  const o = 'healthCheck';
  const given = checkOptions(options, o, HEALTH_CHECK_KEYS);
  const path = given['path'] ?? '/health';
  if (typeof path !== 'string' || path.charCodeAt(0) !== 47 /* / */ || /[\s\u0000-\u001f]/.test(path)) {
    throw invalidConfig(`${o}.path`, "a path starting with '/' and without spaces or control characters", path);
  }
  const protocol = readChoice(given['protocol'], `${o}.protocol`, ['http', 'https'] as const, 'http');
  const tls = readTlsOptions(given['tls'], `${o}.tls`);
  // Probes use their own tls only over https: anything else would drop it silently and probe in clear text.
  if (tls !== undefined && protocol !== 'https') {
    throw invalidConfig(`${o}.tls`, "no TLS options unless protocol is 'https'", given['tls']);
  }
  const intervalMs = parsePositiveDuration(given['interval'] ?? 5000, `${o}.interval`);
  return Object.freeze({
    path,
    intervalMs,
    timeoutMs: parsePositiveDuration(given['timeout'] ?? 1000, `${o}.timeout`),
    jitterMs: given['jitter'] === undefined ? intervalMs / 10 : parseDuration(given['jitter'], `${o}.jitter`),
    unhealthyThreshold: threshold(given['unhealthyThreshold'], `${o}.unhealthyThreshold`, 2),
    healthyThreshold: threshold(given['healthyThreshold'], `${o}.healthyThreshold`, 1),
    expectedStatuses: given['expectedStatuses'] === undefined
      ? Object.freeze([Object.freeze([200, 399] as const)])
      : statuses(given['expectedStatuses'], `${o}.expectedStatuses`),
    protocol,
    tls,
  });
}

/**
 * The outlier detection a client gets when it has health checks but no
 * `.outlierDetection()`: only a sink for the checks' verdict. Its passive
 * rules are off (no ejection from traffic unless asked for); the panic
 * threshold (50 %) stays, and there is no slow start.
 */
export const HEALTH_CHECK_ONLY_DETECTION = Object.freeze({ consecutiveGatewayFailures: 0, consecutive5xx: 0, successRate: false } as const);
