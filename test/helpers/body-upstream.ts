import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Client } from '../../src/index.js';

/** Answers with headers and the first bytes of a longer body, then sends nothing more (the connection stays open). */
export function stallBody(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
  res.write('partial;');
}

/** Answers with `chunks` body chunks `everyMs` apart (a slow but steady stream), then ends. */
export function streamBody(res: http.ServerResponse, chunks: number, everyMs: number): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  let sent = 0;
  const next = (): void => {
    if (res.destroyed) return;
    res.write(`chunk ${sent};`);
    if (++sent === chunks) res.end();
    else setTimeout(next, everyMs);
  };
  next();
}

/** The text a {@link streamBody} of `chunks` chunks carries. */
export function streamedText(chunks: number): string {
  return Array.from({ length: chunks }, (_, i) => `chunk ${i};`).join('');
}

/** Server-side connections of an upstream, as the server sees them open and close. */
export interface ServerSockets {
  readonly opened: number;
  readonly closed: number;
  /** Resolves once at least `count` connections have closed; rejects after `withinMs`. */
  closedAtLeast(count: number, withinMs?: number): Promise<void>;
}

/** Counts the connections `server` accepts and sees closed. */
export function watchServerSockets(server: http.Server): ServerSockets {
  let opened = 0;
  let closed = 0;
  server.on('connection', (socket: Socket) => {
    opened++;
    socket.on('close', () => {
      closed++;
    });
  });
  return {
    get opened() {
      return opened;
    },
    get closed() {
      return closed;
    },
    async closedAtLeast(count: number, withinMs = 2000): Promise<void> {
      const giveUpAt = performance.now() + withinMs;
      while (closed < count) {
        if (performance.now() > giveUpAt) throw new Error(`${closed} server-side connections closed, expected at least ${count}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

/** The error a body read ends with, or undefined when it is read whole. */
export async function readError(read: Promise<unknown>): Promise<unknown> {
  return read.then(() => undefined, (error: unknown) => error);
}

/** What the endpoint health filter and the balancer hold against the client's only endpoint. */
export function endpointRecord(c: Client): { failures: number; latencyMs: number; inFlight: number } {
  const view = c.endpoints();
  return {
    failures: view.health[0]?.consecutiveGatewayFailures ?? -1,
    latencyMs: view.load[0]?.latencyMs ?? -1,
    inFlight: view.load[0]?.inFlight ?? -1,
  };
}
