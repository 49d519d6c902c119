/**
 * Mutual TLS between meshkit services with Consul Connect identities, against
 * a real Consul 1.8 dev agent (Connect on, built-in CA): leaves and roots
 * from the agent, Connect-native registration and discovery, authorization
 * by intention, peer identity checks, and a CA rotation under load.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { connectAuthorizer, connectIdentity, consul } from '../../src/consul/index.js';
import { listen, type MeshkitServer } from '../../src/express/index.js';
import { client, isMeshkitError, type Client, type Identity } from '../../src/index.js';
import { useConsul, type ConsulServer } from '../helpers/consul-server.js';
import { testAgent, within } from './support.js';

async function consulApi(server: ConsulServer, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${server.address}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

const createIntention = async (server: ConsulServer, source: string, destination: string, action: 'allow' | 'deny'): Promise<string> =>
  ((await consulApi(server, 'POST', '/v1/connect/intentions', { SourceName: source, DestinationName: destination, Action: action })) as { ID: string }).ID;
const deleteIntention = (server: ConsulServer, id: string): Promise<unknown> => consulApi(server, 'DELETE', `/v1/connect/intentions/${id}`);

/** One GET: the status and body, or the error. */
async function attempt(c: Client, path = '/who'): Promise<{ status: number; body: string } | { error: unknown }> {
  try {
    const res = await c.request({ path });
    return { status: res.statusCode, body: await res.body.text() };
  } catch (error) {
    return { error };
  }
}

/** GET over HTTPS with raw Node TLS settings; resolves with the status or the error code. */
function rawGet(port: number, options: https.RequestOptions): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/who', agent: false, checkServerIdentity: () => undefined, ...options }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}

describe('Consul Connect: mutual TLS and intentions between meshkit services', () => {
  const registry = useConsul();
  const closers: (() => Promise<unknown> | unknown)[] = [];
  let identities: Record<'orders' | 'web' | 'billing', Identity>;
  let orders: MeshkitServer;
  let web: MeshkitServer;
  let webToOrders: Client;
  const ordersPeers: string[] = [];

  before(async () => {
    const server = registry.server;
    if (server === undefined) return;
    const address = server.address;
    identities = {
      orders: connectIdentity({ service: 'orders', address }),
      web: connectIdentity({ service: 'web', address }),
      billing: connectIdentity({ service: 'billing', address }),
    };
    closers.push(...Object.values(identities).map((identity) => () => identity.close()));
    orders = await listen((req: http.IncomingMessage, res: http.ServerResponse) => {
      ordersPeers.push(req.meshkit?.peer ?? '');
      res.end(JSON.stringify({ peer: req.meshkit?.peer, serial: (req.socket as TLSSocket).getPeerCertificate().serialNumber }));
    }, {
      identity: identities.orders,
      authorize: connectAuthorizer({ service: 'orders', address, cacheTtl: '500ms' }),
      register: { registrar: consul({ service: 'orders', address, connect: true }), instance: { service: 'orders' } },
      lifecycle: { signals: [], propagationDelay: 0 },
    });
    closers.push(() => orders.close());
    web = await listen((req: http.IncomingMessage, res: http.ServerResponse) => res.end(`web answers ${req.meshkit?.peer}`), {
      identity: identities.web,
      register: { registrar: consul({ service: 'web', address, connect: true }), instance: { service: 'web' } },
      lifecycle: { signals: [], propagationDelay: 0 },
    });
    closers.push(() => web.close());
    webToOrders = client('orders').discovery(consul({ service: 'orders', address, connect: true, minInterval: '50ms' })).identity(identities.web).build();
    closers.push(() => webToOrders.close());
  });

  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('gives each service a Consul leaf with its SPIFFE ID and the Connect roots', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const material = await identities.web.ready();
    assert.match(material.spiffeId.uri, /^spiffe:\/\/[0-9a-f-]+\.consul\/ns\/default\/dc\/dc1\/svc\/web$/);
    const roots = (await consulApi(server, 'GET', '/v1/agent/connect/ca/roots')) as { Roots: { RootCert: string; Active: boolean }[] };
    const active = roots.Roots.find((root) => root.Active);
    assert.ok(active !== undefined && material.ca.includes(active.RootCert));
    assert.ok(new X509Certificate(material.cert).checkIssued(new X509Certificate(active.RootCert)));
    assert.equal(identities.web.status().stale, false);
  });

  it('two services call each other over mTLS, found through Connect-native registrations', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const registered = (await consulApi(server, 'GET', '/v1/agent/service/orders-127.0.0.1-' + orders.port)) as { Connect?: { Native?: boolean } };
    assert.equal(registered.Connect?.Native, true);
    const answer = await attempt(webToOrders);
    assert.ok('status' in answer && answer.status === 200, JSON.stringify(answer));
    assert.equal((JSON.parse(answer.body) as { peer: string }).peer, 'web');
    const ordersToWeb = client('web').discovery(consul({ service: 'web', address: server.address, connect: true })).identity(identities.orders).build();
    t.after(() => ordersToWeb.close());
    const back = await attempt(ordersToWeb, '/');
    assert.ok('status' in back && back.status === 200 && back.body === 'web answers orders', JSON.stringify(back));
  });

  it('with connect: true, discovery lists only Connect-capable instances (a plain instance of the same name is left out)', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const agent = testAgent(server.address);
    t.after(() => agent.close());
    await agent.register('orders', 'orders-plain', 9);
    t.after(() => agent.deregister('orders-plain'));
    const seen = (connect: boolean): Promise<string[]> => new Promise((resolve, reject) => {
      const stop = consul({ service: 'orders', address: server.address, connect }).subscribe({
        onUpdate: (update) => {
          stop();
          resolve(update.endpoints.map((endpoint) => endpoint.id).sort());
        },
        onError: reject,
      });
    });
    assert.deepEqual(await seen(true), [orders.address]);
    assert.deepEqual(await seen(false), ['127.0.0.1:9', orders.address].sort());
  });

  it('refuses plaintext and a client without a certificate', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const plain = await new Promise<string>((resolve) => {
      http.get({ host: '127.0.0.1', port: orders.port, path: '/who', agent: false }, (res) => {
        res.resume();
        resolve(`status ${res.statusCode}`);
      }).on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    assert.notEqual(plain, 'status 200');
    assert.ok(!ordersPeers.includes(''), 'no handler ran without a verified peer');
    const material = await identities.web.ready();
    const noCert = await rawGet(orders.port, { ca: [...material.ca] });
    assert.ok(noCert.error !== undefined, `no client certificate: ${JSON.stringify(noCert)}`);
  });

  it('a deny intention turns calls into 403 ERR_FORBIDDEN within the cache bound; deleting it restores them', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    assert.ok('status' in (await attempt(webToOrders)));
    const id = await createIntention(server, 'web', 'orders', 'deny');
    let removed = false;
    t.after(async () => {
      if (!removed) await deleteIntention(server, id);
    });
    let last: Awaited<ReturnType<typeof attempt>> | undefined;
    // Cache bound 500 ms, plus the agent's own intention sync: allow generous slack on a busy machine.
    await within(5000, 'denied', async () => {
      last = await attempt(webToOrders);
      return 'status' in last && last.status === 403;
    });
    assert.ok(last !== undefined && 'status' in last);
    assert.deepEqual(JSON.parse(last.body), { error: 'forbidden', code: 'ERR_FORBIDDEN' });
    await deleteIntention(server, id);
    removed = true;
    await within(5000, 'allowed again', async () => {
      const answer = await attempt(webToOrders);
      return 'status' in answer && answer.status === 200;
    });
  });

  it('refuses a caller whose certificate names a service no intention allows', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const denyAll = await createIntention(server, '*', 'orders', 'deny');
    const allowWeb = await createIntention(server, 'web', 'orders', 'allow');
    t.after(async () => {
      await deleteIntention(server, denyAll);
      await deleteIntention(server, allowWeb);
    });
    const billingToOrders = client('orders').endpoints([orders.address]).identity(identities.billing).build();
    t.after(() => billingToOrders.close());
    await within(5000, 'billing denied', async () => {
      const answer = await attempt(billingToOrders);
      return 'status' in answer && answer.status === 403;
    });
    const allowed = await attempt(webToOrders);
    assert.ok('status' in allowed && allowed.status === 200, JSON.stringify(allowed));
  });

  it('refuses a server presenting another service\'s valid certificate with ERR_PEER_IDENTITY', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const impostor = await listen((_req: http.IncomingMessage, res: http.ServerResponse) => res.end('not orders'), {
      identity: identities.billing, lifecycle: { signals: [] },
    });
    t.after(() => impostor.close());
    const c = client('orders').endpoints([impostor.address]).identity(identities.web).retry(false).build();
    t.after(() => c.close());
    const answer = await attempt(c);
    assert.ok('error' in answer && isMeshkitError(answer.error, 'ERR_PEER_IDENTITY'), JSON.stringify(answer));
    assert.match(String(answer.error.details['expected']), /\/svc\/orders$/);
    assert.match(String(answer.error.details['presented']), /\/svc\/billing$/);
  });

  it('rotates the CA under load with no failed call; new connections use the new chain', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const before = { web: await identities.web.ready(), orders: await identities.orders.ready() };
    const failures: unknown[] = [];
    let calls = 0;
    let running = true;
    const worker = async (): Promise<void> => {
      while (running) {
        const answer = await attempt(webToOrders);
        calls++;
        if (!('status' in answer) || answer.status !== 200) failures.push('error' in answer ? String(answer.error) : answer);
      }
    };
    const workers = Array.from({ length: 8 }, () => worker());
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const privateKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'sec1', format: 'pem' });
      await consulApi(server, 'PUT', '/v1/connect/ca/configuration', {
        Provider: 'consul', Config: { PrivateKey: privateKey, LeafCertTTL: '72h', RotationPeriod: '2160h', IntermediateCertTTL: '8760h' },
      });
      const roots = (await consulApi(server, 'GET', '/v1/agent/connect/ca/roots')) as { Roots: { RootCert: string; Active: boolean }[] };
      const newRoot = new X509Certificate((roots.Roots.find((root) => root.Active) as { RootCert: string }).RootCert);
      // The agent re-signs leaves within 30 s of a root change (its jitter window).
      const signedByNew = (identity: Identity): boolean => {
        const cert = identity.current()?.cert;
        return cert !== undefined && new X509Certificate(cert).checkIssued(newRoot) && new X509Certificate(cert).verify(newRoot.publicKey);
      };
      await within(60_000, 'both leaves re-signed by the new root', () => signedByNew(identities.web) && signedByNew(identities.orders));
      await new Promise((resolve) => setTimeout(resolve, 500));
      running = false;
      await Promise.all(workers);
      assert.deepEqual(failures.slice(0, 3), [], `${failures.length} of ${calls} calls failed`);
      assert.ok(calls > 50, `the load ran (${calls} calls)`);
      const now = { web: identities.web.current(), orders: identities.orders.current() };
      assert.notEqual(now.web?.serialNumber, before.web.serialNumber);
      // A new connection now: the server presents the new chain (verified against the new root alone)
      // and sees web's new leaf.
      const fresh = client('orders').endpoints([orders.address]).identity(identities.web).build();
      t.after(() => fresh.close());
      const answer = await attempt(fresh);
      assert.ok('status' in answer && answer.status === 200, JSON.stringify(answer));
      assert.equal((JSON.parse(answer.body) as { serial: string }).serial, now.web?.serialNumber);
      const strict = await rawGet(orders.port, { ca: newRoot.toString(), cert: now.web?.cert, key: now.web?.key });
      assert.equal(strict.status, 200, `the server's chain verifies against the new root: ${JSON.stringify(strict)}`);
    } finally {
      running = false;
      await Promise.all(workers);
    }
  });
});
