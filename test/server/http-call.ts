import http from 'node:http';

/** One answer, with how long it took (ms, from the request until the whole body was read). */
export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly ms: number;
}

/**
 * A plain HTTP request to a test server (no meshkit in between): the test's
 * view of the server, as any caller would see it. `agent` defaults to none
 * (a fresh connection, closed after the answer), so nothing outlives the test.
 */
export function call(url: string, init: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string; agent?: http.Agent } = {}): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, agent: init.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** The p-th percentile (0-100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A caller that hangs up: sends a request to `url`, waits until the server's
 * handler holds it (pushed its response onto `held`), disconnects, and waits
 * until the server saw the connection close. Returns the held response.
 */
export async function sendAndHangUp<R extends { readonly destroyed: boolean }>(
  url: string, held: readonly R[], headers: http.OutgoingHttpHeaders = {},
): Promise<R> {
  const before = held.length;
  const req = http.request(url, { headers, agent: false });
  req.on('error', () => {}); // it hangs up on purpose
  req.end();
  while (held.length === before) await sleep(1);
  const res = held[held.length - 1] as R;
  req.destroy();
  while (!res.destroyed) await sleep(1);
  return res;
}
