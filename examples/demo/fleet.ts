// A small fleet of upstream HTTP instances for the demo, all in this process on
// 127.0.0.1 with ephemeral ports. Each instance counts the requests it receives,
// so the demo can measure attempts per request without trusting the client.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type InstanceKind = 'healthy' | 'slow' | 'failing';

export interface InstanceSpec {
  readonly name: string;
  readonly kind: InstanceKind;
}

export interface Instance {
  readonly name: string;
  readonly kind: InstanceKind;
  readonly host: string;
  readonly port: number;
  /** "host:port", the form meshkit's `.endpoints([...])` accepts. */
  readonly address: string;
  /** Requests received since the last `resetCounters()`, answered or not. */
  readonly received: number;
}

export interface Fleet {
  readonly instances: readonly Instance[];
  totalReceived(): number;
  resetCounters(): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Three healthy instances, one slow, one failing: the bad ones are 40 % of the fleet. */
export const DEFAULT_FLEET: readonly InstanceSpec[] = [
  { name: 'healthy-1', kind: 'healthy' },
  { name: 'slow', kind: 'slow' },
  { name: 'healthy-2', kind: 'healthy' },
  { name: 'failing', kind: 'failing' },
  { name: 'healthy-3', kind: 'healthy' },
];

export const SLOW_MS = 250;
const HOST = '127.0.0.1';

/** How long an instance of this kind waits before answering, and with what status. */
function behaviour(kind: InstanceKind): { delayMs: number; status: number } {
  switch (kind) {
    case 'healthy':
      return { delayMs: 2 + Math.random() * 4, status: 200 }; // 2-6 ms
    case 'slow':
      return { delayMs: SLOW_MS, status: 200 };
    case 'failing':
      return { delayMs: 1, status: 503 };
  }
}

class RunningInstance implements Instance {
  readonly host = HOST;
  received = 0;
  // Pending answers, cleared on close so no timer outlives the fleet.
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server: Server;

  constructor(readonly spec: InstanceSpec) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  get name(): string { return this.spec.name; }
  get kind(): InstanceKind { return this.spec.kind; }
  get port(): number { return (this.server.address() as AddressInfo).port; }
  get address(): string { return `${this.host}:${this.port}`; }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, HOST, () => resolve());
    });
  }

  close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      // Keep-alive sockets from the clients would otherwise hold close() open.
      this.server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.received += 1;
    req.resume();
    const { delayMs, status } = behaviour(this.spec.kind);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? `ok from ${this.spec.name}\n` : `unavailable: ${this.spec.name}\n`);
    }, delayMs);
    this.timers.add(timer);
    // A client that gave up (per-try timeout) closes the socket: stop the pending answer.
    res.once('close', () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    });
  }
}

export async function startFleet(specs: readonly InstanceSpec[] = DEFAULT_FLEET): Promise<Fleet> {
  const running = specs.map((s) => new RunningInstance(s));
  try {
    await Promise.all(running.map((r) => r.listen()));
  } catch (err) {
    await Promise.allSettled(running.map((r) => r.close()));
    throw err;
  }
  const close = async (): Promise<void> => {
    await Promise.all(running.map((r) => r.close()));
  };
  return {
    instances: running,
    totalReceived: () => running.reduce((sum, r) => sum + r.received, 0),
    resetCounters: () => { for (const r of running) r.received = 0; },
    close,
    [Symbol.asyncDispose]: close,
  };
}
