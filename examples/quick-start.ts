// Quick start, as in the README: a meshkit client in front of one upstream.
// Run it with `npm run compile && node .build/examples/quick-start.js`.
// It starts a local server, so it needs nothing else; in your service the
// endpoints are real instances (or come from .discovery(...)).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { client } from '../src/index.js'; // in your project: from 'meshkit'

// An upstream to talk to, on 127.0.0.1 with a free port.
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ hello: 'world', path: req.url }));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

// Build once, share everywhere: the client owns connection pools and state.
const orders = client('orders')
  .endpoints([`127.0.0.1:${port}`])
  .timeout({ perTry: '300ms', total: '2s' }) // each attempt, and the whole call with retries
  .retry({ attempts: 3 }) // GETs are idempotent, so 503s, resets and timeouts are retried
  .build();

try {
  const res = await orders.request({ path: '/v1/orders/42', method: 'GET' });
  console.log(res.statusCode, await res.body.json());
} finally {
  await orders.close();
  server.close();
}
