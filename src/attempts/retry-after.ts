import { wallClockNow, type Clock } from '../core/clock.js';
import type { Attempt } from './attempt.js';

/**
 * Milliseconds a `Retry-After` value asks to wait: delay-seconds (`120`) or
 * an HTTP-date (RFC 9110 §10.2.3), measured against `wallNow`. Undefined when
 * the value is missing or malformed; 0 for a date in the past.
 */
export function parseRetryAfter(value: unknown, wallNow: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only something date-like: Date.parse also takes '-1' or '1.5' as dates.
  if (!/[A-Za-z]/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - wallNow);
}

/**
 * How long the server behind a failed attempt asked us to wait before the
 * retry; undefined when it did not. A 429's Retry-After is honoured always (a
 * rate limit usually covers the whole service). A 503's speaks for the
 * instance that sent it (an overloaded or draining one), so it is honoured
 * only when the retry must go back to that instance (`retrySameEndpoint`);
 * otherwise the retry goes elsewhere after the usual backoff. An HTTP-date
 * is measured against `clock`'s wall time (see `wallClockNow`).
 */
export function requestedPause(attempt: Attempt, retrySameEndpoint: boolean, clock: Clock): number | undefined {
  const status = attempt.outcome?.status;
  if (status !== 429 && !(status === 503 && retrySameEndpoint)) return undefined;
  const headers = (attempt.response as { headers?: Record<string, unknown> } | undefined)?.headers;
  if (headers === undefined || headers === null) return undefined;
  return parseRetryAfter(headers['retry-after'], wallClockNow(clock));
}
