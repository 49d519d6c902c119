// The "orders" service the telemetry examples call: a few instances on
// 127.0.0.1 with free ports. Each answers a little slowly (so the latency
// histogram has a shape) and every `failEvery`-th request it gets with a 503
// (so retries show up as resent attempts in traces and as 503 series in metrics).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Options of {@link startOrdersFleet}. */
export interface OrdersFleetOptions {
  /** How many instances. Default 2. */
  readonly instances?: number;
  /** Each instance answers 503 to every n-th request it receives; 0 never. Default 5. */
  readonly failEvery?: number;
  /** Upper bound of the random delay before each answer, ms. Default 25. */
  readonly maxDelayMs?: number;
}

/** What an instance saw of one request: enough to check trace context propagation. */
export interface SeenRequest {
  readonly port: number;
  readonly path: string;
  readonly status: number;
  /** The W3C `traceparent` header the request carried, if any. */
  readonly traceparent: string | undefined;
}

/** The running instances. */
export interface OrdersFleet {
  /** `127.0.0.1:<port>` of each instance, for `.endpoints([...])`. */
  readonly endpoints: readonly string[];
  /** The last 1000 requests the instances answered, oldest first. */
  seen(): readonly SeenRequest[];
  /** Closes every instance (and any connection still open to it). */
  close(): Promise<void>;
}

/** Starts the instances on 127.0.0.1, port 0. */
export async function startOrdersFleet(options: OrdersFleetOptions = {}): Promise<OrdersFleet> {
  const { instances = 2, failEvery = 5, maxDelayMs = 25 } = options;
  const seen: SeenRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const servers: Server[] = [];
  for (let i = 0; i < instances; i++) {
    let received = 0;
    const server = createServer((req, res) => {
      received++;
      const status = failEvery > 0 && received % failEvery === 0 ? 503 : 200;
      const port = (server.address() as AddressInfo).port;
      const traceparent = req.headers['traceparent'];
      seen.push({ port, path: req.url ?? '', status, traceparent: typeof traceparent === 'string' ? traceparent : undefined });
      if (seen.length > 1000) seen.shift();
      req.resume();
      const timer = setTimeout(() => {
        timers.delete(timer);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status === 200 ? { id: req.url?.split('/').pop(), state: 'open', instance: port } : { error: 'overloaded' }));
      }, Math.floor(Math.random() * maxDelayMs));
      timers.add(timer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
  }
  return {
    endpoints: servers.map((s) => `127.0.0.1:${(s.address() as AddressInfo).port}`),
    seen: () => [...seen],
    async close() {
      for (const timer of timers) clearTimeout(timer);
      await Promise.all(servers.map((server) => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      }));
    },
  };
}
