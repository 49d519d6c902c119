import type { HttpHeaders } from './http-types.js';

/**
 * The header that carries a call's remaining time to the next hop, in whole
 * milliseconds (`x-meshkit-deadline: 180`). A relative value, like gRPC's
 * `grpc-timeout`, so hops need no synchronised clocks; the receiving side
 * (meshkit's server middleware) starts its own deadline from it.
 */
export const DEADLINE_HEADER = 'x-meshkit-deadline';

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
