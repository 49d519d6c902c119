import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** An answer from the agent as the proxy saw it; a rewrite returns what the client gets instead. */
export interface ProxiedAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP proxy in front of a Consul agent: counts requests and can rewrite answers. */
export interface AgentProxy {
  /** `http://127.0.0.1:<port>`: give it to consul({ address }). */
  readonly address: string;
  /** Every request received, in order: path with query, and when it arrived (performance.now()). */
  readonly requests: { url: string; at: number }[];
  /** Rewrites answers whose request url matches; undefined forwards unchanged (streamed). */
  rewrite: ((url: string, answer: ProxiedAnswer) => ProxiedAnswer) | undefined;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port forwarding to `target` (`http://127.0.0.1:<port>`). */
export async function startAgentProxy(target: string): Promise<AgentProxy> {
  const upstream = new URL(target);
  const outgoing = new Set<http.ClientRequest>();
  const proxy: AgentProxy = {
    address: '',
    requests: [],
    rewrite: undefined,
    async close() {
      for (const req of outgoing) req.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    proxy.requests.push({ url, at: performance.now() });
    const out = http.request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: url, headers: req.headers, agent: false,
    }, (answer) => {
      const rewrite = proxy.rewrite;
      if (rewrite === undefined) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const changed = rewrite(url, { status: answer.statusCode ?? 502, headers: { ...answer.headers }, body: Buffer.concat(chunks).toString() });
        const headers = { ...changed.headers };
        delete headers['content-length'];
        delete headers['transfer-encoding'];
        res.writeHead(changed.status, { ...headers, 'content-length': Buffer.byteLength(changed.body) });
        res.end(changed.body);
      });
    });
    outgoing.add(out);
    out.on('close', () => outgoing.delete(out));
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('agent unreachable');
    });
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(proxy, { address: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  return proxy;
}
