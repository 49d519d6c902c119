// A meshkit-served process for the registration tests: an HTTP server that
// registers itself in etcd and deregisters on SIGTERM before it stops accepting.
// argv: <etcd url> <service> <lease ttl>. Prints one JSON line once registered.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Etcd3 } from 'etcd3';
import { etcd } from '../../src/etcd/index.js';
import { register } from '../../src/index.js';

const [url, service, ttl] = process.argv.slice(2) as [string, string, string];
const server = http.createServer((_req, res) => res.end(`served ${process.pid}`));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;
const registration = await register(etcd({ service, hosts: url, leaseTtl: ttl }), { service, address: '127.0.0.1', port }, {
  async onShutdown() {
    // meshkit has deregistered by now; the key must be gone while we still accept connections.
    const stillServing = await fetch(`http://127.0.0.1:${port}/`).then((res) => res.ok, () => false);
    const check = new Etcd3({ hosts: url });
    const keyGone = (await check.get(`/meshkit/services/${service}/${registration.id}`).string()) === null;
    check.close();
    process.stdout.write(`${JSON.stringify({ deregistered: true, keyGone, stillServing })}\n`);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    process.stdout.write(`${JSON.stringify({ stopped: true })}\n`);
    process.exitCode = 0;
  },
});
process.stdout.write(`${JSON.stringify({ ready: true, id: registration.id, port })}\n`);
