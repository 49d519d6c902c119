/**
 * Raw HTTPS calls with a chosen client certificate, for tests of the
 * inbound mTLS gate: plain requests, upgrades (WebSocket handshakes),
 * CONNECT and `Expect: 100-continue`, each resolving with what came back.
 */
import https from 'node:https';
import type { TlsMaterial } from '../helpers/tls.js';

/** What a raw call got: a response (status, a header, body), an upgrade (101), or an error code. */
export interface RawAnswer {
  readonly status?: number;
  readonly body?: string;
  readonly header?: string | undefined;
  readonly upgraded?: boolean;
  readonly error?: string;
}

/** Options of {@link rawCall}. */
export interface RawCallOptions {
  readonly port: number;
  /** The client certificate presented. */
  readonly leaf: TlsMaterial;
  /** The trust root of the server's certificate. */
  readonly ca: string;
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  /** A response header to report (`header`). Default `x-peer`. */
  readonly header?: string;
  readonly body?: string;
}

/** One call on its own connection; `upgrade` and `connect` answers count as `upgraded`. */
export function rawCall(options: RawCallOptions): Promise<RawAnswer> {
  const header = options.header ?? 'x-peer';
  return new Promise((resolve) => {
    const req = https.request({
      host: '127.0.0.1', port: options.port, method: options.method ?? 'GET', path: options.path ?? '/', agent: false,
      ca: options.ca, cert: options.leaf.cert, key: options.leaf.key, headers: options.headers ?? {}, checkServerIdentity: () => undefined,
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, header: res.headers[header] as string | undefined });
        // A 100-continue request refused before its body was sent is never ended: do not leave its socket open.
        req.destroy();
      });
    });
    const upgraded = (res: { statusCode?: number | undefined; headers: Record<string, unknown> }, socket: { destroy(): void }): void => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, upgraded: true, header: res.headers[header] as string | undefined });
    };
    req.on('upgrade', upgraded);
    req.on('connect', upgraded);
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    if (options.headers?.['expect'] === '100-continue') {
      // The body goes only once the server says 100 Continue.
      req.on('continue', () => req.end(options.body ?? ''));
    } else {
      req.end(options.body);
    }
  });
}
