/**
 * The upstream for the HTTP cells, run in its own process (child_process.fork)
 * so the server's work does not share an event loop with the load generator.
 * A keep-alive node:http server on 127.0.0.1, port 0, answering a small fixed body.
 */
import { createServer, type RequestListener } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { FromUpstream, ToUpstream } from './upstream-messages.js';

const BODY = Buffer.from('{"ok":true}\n');
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

function send(message: FromUpstream): void {
  process.send?.(message);
}

let requests = 0;
const answer: RequestListener = (req, res) => {
  requests++;
  req.resume(); // drain any request body so the connection can be reused
  res.writeHead(200, HEADERS);
  res.end(BODY);
};
// BENCH_UPSTREAM_TLS = { cert, key, ca }: HTTPS requiring a client certificate from `ca` (the mTLS row).
const tls = process.env['BENCH_UPSTREAM_TLS'];
const server = tls === undefined
  ? createServer(answer)
  : createTlsServer({ ...(JSON.parse(tls) as { cert: string; key: string; ca: string }), requestCert: true, rejectUnauthorized: true }, answer);
// Long idle timeouts: a client may sit idle for several cells between its rounds,
// and reconnecting would charge it for the handshake. The Keep-Alive hint makes undici keep them too.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;

function stop(): void {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}

process.on('message', (message: ToUpstream) => {
  if (message.type === 'usage') {
    const cpu = process.cpuUsage();
    send({ type: 'usage', requests, cpuMicros: cpu.user + cpu.system });
  } else if (message.type === 'stop') {
    stop();
  }
});
// The parent died or dropped the channel: never outlive it.
process.on('disconnect', stop);

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('upstream: no TCP address');
  send({ type: 'listening', port: address.port });
});
