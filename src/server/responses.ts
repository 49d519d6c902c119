import type { ServerResponse } from 'node:http';

/**
 * Plain JSON answers the inbound side gives on its own (no framework needed:
 * they are written before any handler runs). Nothing is written once headers
 * have gone out.
 */
export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.statusCode = status;
  for (const name of Object.keys(headers)) res.setHeader(name, headers[name] as string);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/** The body of the 504 for a request that arrived after its deadline. */
export const DEADLINE_EXCEEDED_BODY = Object.freeze({ error: 'deadline exceeded', code: 'ERR_DEADLINE_EXCEEDED' });

/** 504: the request's deadline had passed when it arrived, so it was not handled. */
export function writeDeadlineExceeded(res: ServerResponse): void {
  writeJson(res, 504, DEADLINE_EXCEEDED_BODY);
}

/** The body of the 503 of a shed request. */
export function overloadedBody(limit: number): { error: string; code: string; limit: number } {
  return { error: 'overloaded', code: 'ERR_LIMIT_EXCEEDED', limit };
}

/** 503 + Retry-After: refused by the load shedder before any work started. */
export function writeOverloaded(res: ServerResponse, retryAfterSeconds: number | undefined, limit: number): void {
  writeJson(res, 503, overloadedBody(limit), retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) });
}
