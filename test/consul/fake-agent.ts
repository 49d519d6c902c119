import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';

/** A request the fake agent received. */
export interface FakeRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
}

/** What the handler does with a request: answer with a status, or never answer (a hung agent). */
export type FakeAnswer = number | 'hang';

/**
 * A small fake Consul agent on 127.0.0.1 for a hung or failing agent, which a
 * real one cannot be made into on demand. `answer` decides per request.
 */
export interface FakeAgent {
  /** `http://127.0.0.1:<port>`: give it to consul({ address }). */
  readonly address: string;
  readonly requests: FakeRequest[];
  answer: (request: FakeRequest) => FakeAnswer;
  /** Requests whose path starts with `prefix`. */
  count(prefix: string): number;
  close(): Promise<void>;
}

export async function startFakeAgent(answer: (request: FakeRequest) => FakeAnswer = () => 200): Promise<FakeAgent> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const request = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0] as string };
    agent.requests.push(request);
    req.resume();
    const status = agent.answer(request);
    if (status === 'hang') return;
    const body = status === 200 ? '{}' : 'fake agent failure';
    res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'text/plain' }).end(body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent: FakeAgent = {
    address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: [],
    answer,
    count: (prefix) => agent.requests.filter((r) => r.path.startsWith(prefix)).length,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return agent;
}
