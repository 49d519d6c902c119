import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Endpoint, ResolverUpdate } from '../../src/index.js';
import { dns, type DnsOptions } from '../../src/dns/index.js';

/** An HTTP server on any loopback address (the shared upstream helper listens on 127.0.0.1 only). */
export interface LoopbackServer {
  readonly host: string;
  readonly port: number;
  hits: number;
  close(): Promise<void>;
}

/** Listens on `host:port` (port 0: any free port) and answers `ok <host>:<port>`. */
export async function listenOn(host: string, port = 0): Promise<LoopbackServer> {
  const state = { host, port, hits: 0 } as { host: string; port: number; hits: number };
  const server = http.createServer((_req, res) => {
    state.hits++;
    res.end(`ok ${host}:${state.port}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  state.port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** Polls `check` every 10 ms until it holds; returns the ms it took, or throws after `limitMs`. */
export async function waitFor(check: () => boolean, limitMs: number, what: string): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (check()) return performance.now() - start;
    if (performance.now() - start > limitMs) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Real-time pause. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Subscribes to `dns(options)` and records what it reports: updates, errors and rejected entries. */
export function watch(options: DnsOptions) {
  const seen = { updates: [] as (readonly Endpoint[])[], errors: [] as Error[], rejected: [] as { entry: unknown; error: Error }[] };
  const unsubscribe = dns(options).subscribe({
    onUpdate: (update: ResolverUpdate) => seen.updates.push(update.endpoints),
    onError: (error) => seen.errors.push(error),
    onRejected: (entry, error) => seen.rejected.push({ entry, error }),
  });
  return { seen, unsubscribe };
}
