import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How one test upstream answers. */
export interface UpstreamBehaviour {
  /** Status to answer with. Default 200. */
  status?: number;
  /** Delay before answering, ms. Default 0. */
  delayMs?: number;
  /** Body to answer with. Default `ok <port>`. */
  body?: string;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

/** A real HTTP server on 127.0.0.1 with a request log, for integration tests. */
export interface Upstream {
  readonly port: number;
  readonly address: string;
  readonly server: http.Server;
  /** Requests received, in order (method, url, headers, body). */
  readonly requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  behaviour: UpstreamBehaviour;
  /** Optional full control: answer the request yourself. */
  handler: ((req: http.IncomingMessage, res: http.ServerResponse, body: string) => void) | undefined;
  close(): Promise<void>;
}

/** Starts an upstream on a free loopback port. */
export async function startUpstream(behaviour: UpstreamBehaviour = {}): Promise<Upstream> {
  const timers = new Set<NodeJS.Timeout>();
  const upstream: Upstream = {
    port: 0,
    address: '',
    server: http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        upstream.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (upstream.handler !== undefined) {
          upstream.handler(req, res, body);
          return;
        }
        const { status = 200, delayMs = 0, headers = {} } = upstream.behaviour;
        const answer = (): void => {
          res.writeHead(status, { 'content-type': 'text/plain', ...headers });
          res.end(upstream.behaviour.body ?? `ok ${upstream.port}`);
        };
        if (delayMs === 0) answer();
        else {
          const timer = setTimeout(() => {
            timers.delete(timer);
            answer();
          }, delayMs);
          timers.add(timer);
        }
      });
    }),
    requests: [],
    behaviour,
    handler: undefined,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      upstream.server.closeAllConnections();
      await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
    },
  };
  await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve));
  const port = (upstream.server.address() as AddressInfo).port;
  Object.assign(upstream, { port, address: `127.0.0.1:${port}` });
  return upstream;
}

/** Starts several upstreams. */
export function startUpstreams(behaviours: UpstreamBehaviour[]): Promise<Upstream[]> {
  return Promise.all(behaviours.map((behaviour) => startUpstream(behaviour)));
}

/** A loopback port with nothing listening (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resources meshkit could leak (sockets, timers), as `process.getActiveResourcesInfo()` names them. */
export function activeResources(): string[] {
  return process.getActiveResourcesInfo().filter((name) => name !== 'TTYWrap' && name !== 'PipeWrap' && name !== 'FSReqCallback');
}
