import type { HttpHeaders } from './http-types.js';

/**
 * The header that carries a call's remaining time to the next hop, in whole
 * milliseconds (`x-meshkit-deadline: 180`). A relative value, like gRPC's
 * `grpc-timeout`, so hops need no synchronised clocks; the receiving side
 * (meshkit's server middleware) starts its own deadline from it.
 */
export const DEADLINE_HEADER = 'x-meshkit-deadline';

/** The last headers object made for a request with no headers of its own, and its value. */
let lastMs = -1;
let lastHeaders: HttpHeaders = Object.freeze({ [DEADLINE_HEADER]: '0' });

/**
 * @internal For the undici transport: headers holding only the deadline, for
 * a request with no headers of its own. Calls mostly send the same whole
 * number of milliseconds (the total timeout, less what policies took), so the
 * last object is reused while the value repeats: it is frozen (undici only
 * reads it), and it saves an object and a number formatting per request.
 */
export function onlyDeadlineHeader(remainingMs: number): HttpHeaders {
  const ms = Math.max(0, Math.floor(remainingMs));
  if (ms !== lastMs) {
    lastMs = ms;
    lastHeaders = Object.freeze({ [DEADLINE_HEADER]: String(ms) });
  }
  return lastHeaders;
}

/** Returns `headers` plus the deadline header (replacing one the caller set); copies, never mutates. */
export function withDeadlineHeader(headers: HttpHeaders | null | undefined, remainingMs: number): HttpHeaders {
  const value = String(Math.max(0, Math.floor(remainingMs)));
  if (headers === null || headers === undefined) return { [DEADLINE_HEADER]: value };
  if (Array.isArray(headers)) {
    const flat: string[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() !== DEADLINE_HEADER) flat.push(headers[i] as string, headers[i + 1] as string);
    }
    flat.push(DEADLINE_HEADER, value);
    return flat;
  }
  const copy: Record<string, string | string[] | undefined> = {};
  for (const name of Object.keys(headers)) if (name.toLowerCase() !== DEADLINE_HEADER) copy[name] = headers[name];
  copy[DEADLINE_HEADER] = value;
  return copy;
}

/**
 * Returns `headers` plus the attempt's outbound headers (trace context) and,
 * when `remainingMs` is finite, the deadline header; each replaces a header of
 * the same name the caller set. Copies, never mutates; returns `headers`
 * itself when there is nothing to add.
 */
export function withAttemptHeaders(
  headers: HttpHeaders | null | undefined,
  extra: Readonly<Record<string, string>> | undefined,
  remainingMs: number,
): HttpHeaders | null {
  if (extra === undefined) return remainingMs === Infinity ? (headers ?? null) : withDeadlineHeader(headers, remainingMs);
  const added: Record<string, string> = {};
  for (const name of Object.keys(extra)) added[name.toLowerCase()] = extra[name] as string;
  if (remainingMs !== Infinity) added[DEADLINE_HEADER] = String(Math.max(0, Math.floor(remainingMs)));
  if (headers === null || headers === undefined) return added;
  if (Array.isArray(headers)) {
    const flat: string[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (!Object.hasOwn(added, String(headers[i]).toLowerCase())) flat.push(headers[i] as string, headers[i + 1] as string);
    }
    for (const name of Object.keys(added)) flat.push(name, added[name] as string);
    return flat;
  }
  const copy: Record<string, string | string[] | undefined> = {};
  for (const name of Object.keys(headers)) if (!Object.hasOwn(added, name.toLowerCase())) copy[name] = headers[name];
  return Object.assign(copy, added);
}
