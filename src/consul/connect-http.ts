import http from 'node:http';
import https from 'node:https';
import type { Clock } from '../core/clock.js';
import type { ResolvedConsulOptions } from './options.js';

/** One answer of the agent's HTTP API. */
export interface AgentAnswer {
  readonly status: number;
  readonly index: string | undefined;
  readonly body: unknown;
}

/**
 * A small JSON client for the agent's Connect endpoints (the `consul`
 * package has none): token header, TLS to the agent, a bound on each request
 * on the injected clock, and sockets that never hold the process open.
 */
export class ConnectHttp {
  readonly #options: ResolvedConsulOptions;
  readonly #agent: http.Agent;
  readonly #requests = new Set<http.ClientRequest>();

  constructor(options: ResolvedConsulOptions) {
    this.#options = options;
    const secure = options.url.protocol === 'https:';
    const tls = options.tls ?? {};
    this.#agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: 8, ...(tls as https.AgentOptions) })
      : new http.Agent({ keepAlive: true, maxSockets: 8 });
  }

  /** GET or POST `path` (with `query`), failing after `timeoutMs`; a non-2xx answer resolves with its status. */
  request(method: 'GET' | 'POST', path: string, query: Readonly<Record<string, string>>, timeoutMs: number, body?: unknown): Promise<AgentAnswer> {
    const url = new URL(path, this.#options.url);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    if (this.#options.datacenter !== undefined && !url.searchParams.has('dc')) url.searchParams.set('dc', this.#options.datacenter);
    const clock: Clock = this.#options.clock;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#options.token !== undefined) headers['x-consul-token'] = this.#options.token;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method, headers, agent: this.#agent });
      this.#requests.add(req);
      const timer = clock.setTimeout(() => req.destroy(new Error(`${method} ${url.pathname}: the agent did not answer within ${Math.round(timeoutMs)} ms`)), timeoutMs);
      const done = (): void => {
        clock.clearTimeout(timer);
        this.#requests.delete(req);
      };
      req.on('socket', (socket) => socket.unref());
      req.on('error', (error) => {
        done();
        reject(error);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => {
          done();
          reject(error);
        });
        res.on('end', () => {
          done();
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // An error answer is plain text: keep it for the message.
          }
          const index = res.headers['x-consul-index'];
          resolve({ status: res.statusCode ?? 0, index: typeof index === 'string' ? index : undefined, body: parsed });
        });
      });
      req.end(payload);
    });
  }

  /** Aborts requests in flight and closes the sockets. */
  close(): void {
    for (const req of this.#requests) req.destroy(new Error('closed'));
    this.#requests.clear();
    this.#agent.destroy();
  }
}
