import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { KVClient, LeaseClient } from 'etcd3';
import { etcd } from '../../src/etcd/index.js';
import { client, register, roundRobin } from '../../src/index.js';
import { activeResources } from '../helpers/upstream.js';
import { etcdFixture, uniqueService, waitFor } from './fixture.js';

const SCRIPT = fileURLToPath(new URL('./served-instance.js', import.meta.url));

interface Served {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly ready: { id: string; port: number };
}

async function serve(url: string, service: string, ttl: string): Promise<Served> {
  const child = spawn(process.execPath, [SCRIPT, url, service, ttl], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>);
      buffer = buffer.slice(newline + 1);
    }
  });
  await waitFor('the served process to register', () => lines.some((l) => l['ready'] === true) || child.exitCode !== null, 15_000);
  const ready = lines.find((l) => l['ready'] === true);
  if (ready === undefined) throw new Error(`served process exited with ${child.exitCode}`);
  return { child, lines, ready: ready as unknown as { id: string; port: number } };
}

describe('etcd registration', () => {
  const fixture = etcdFixture();
  const children: ChildProcess[] = [];
  before(() => fixture.before());
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await fixture.after();
  });

  it('a served process registers on start, is reachable through discovery, and on SIGTERM leaves etcd before it stops accepting', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const service = uniqueService('served');
    const served = await serve(server.url, service, '10s');
    children.push(served.child);
    const key = `/meshkit/services/${service}/${served.ready.id}`;
    const kv = fixture.kv();
    const stored = JSON.parse((await kv.get(key).string()) ?? 'null') as { host: string; port: number };
    assert.deepEqual([stored.host, stored.port], ['127.0.0.1', served.ready.port]);
    const leased = await kv.getAll().prefix(key).exec();
    assert.notEqual(leased.kvs[0]?.lease, '0', 'written under a lease');

    const c = client(service).balancer(roundRobin()).discovery(etcd({ service, hosts: server.url })).build();
    try {
      const res = await c.request({ path: '/' });
      assert.equal(await res.body.text(), `served ${served.child.pid}`);
      const signalled = performance.now();
      served.child.kill('SIGTERM');
      const [code] = (await once(served.child, 'exit')) as [number | null];
      assert.equal(code, 0);
      assert.ok(served.lines.some((l) => l['stopped'] === true), 'onShutdown ran after deregistering');
      const shutdown = served.lines.find((l) => l['deregistered'] === true);
      assert.equal(shutdown?.['keyGone'], true, 'the key was gone when onShutdown began');
      assert.equal(shutdown?.['stillServing'], true, 'and the server was still accepting then');
      assert.equal(await kv.get(key).string(), null, 'key gone when the process has exited');
      const goneMs = await waitFor('the client to drop it', () => c.endpoints().endpoints.length === 0, 1000);
      t.diagnostic(`graceful: process exited and key gone ${(performance.now() - signalled).toFixed(0)} ms after SIGTERM; client dropped it ${goneMs.toFixed(0)} ms later`);
    } finally {
      await c.close();
    }
  });

  it('after kill -9 the key stays until the lease runs out, then it is gone', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const service = uniqueService('crashed');
    const served = await serve(server.url, service, '2s');
    children.push(served.child);
    const key = `/meshkit/services/${service}/${served.ready.id}`;
    const kv = fixture.kv();
    // Alive for longer than the TTL: the keep-alive holds it.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.notEqual(await kv.get(key).string(), null, 'kept alive past one TTL');
    served.child.kill('SIGKILL');
    const killed = performance.now();
    await once(served.child, 'exit');
    assert.notEqual(await kv.get(key).string(), null, 'still there right after the crash: only the lease removes it');
    // etcd expires a lease at most TTL (2 s) after its last renewal; it checks every 500 ms. Bound: TTL + 1.5 s.
    const goneMs = await waitFor('the lease to expire', async () => (await kv.get(key).string()) === null, 3500);
    t.diagnostic(`crash: key gone ${(performance.now() - killed).toFixed(0)} ms after kill -9 (lease TTL 2 s)`);
    assert.ok(goneMs >= 300, `not removed by anything but the lease (${goneMs.toFixed(0)} ms)`);
  });

  it('writes the key again under a new lease when its lease is lost', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const service = uniqueService('relet');
    const kv = fixture.kv();
    const registration = await register(etcd({ service, hosts: server.url, leaseTtl: '3s' }),
      { service, address: '127.0.0.1', port: 4322, id: 'one' }, { signals: [] });
    try {
      const key = `/meshkit/services/${service}/one`;
      const first = (await kv.getAll().prefix(key).exec()).kvs[0]?.lease;
      assert.ok(first !== undefined && first !== '0');
      await kv.leaseClient.leaseRevoke({ ID: first }); // what etcd does to a lease it considers expired
      assert.equal(await kv.get(key).string(), null);
      // The next renewal (every ttl/3 = 1 s) learns the lease is gone and writes the key again.
      const backMs = await waitFor('the key to come back', async () => (await kv.get(key).string()) !== null, 2500);
      const second = (await kv.getAll().prefix(key).exec()).kvs[0]?.lease;
      assert.ok(second !== undefined && second !== '0' && second !== first, 'under a new lease');
      t.diagnostic(`key rewritten ${backMs.toFixed(0)} ms after its lease was revoked`);
    } finally {
      await registration.deregister();
    }
  });

  it('keeps writing the key under the new lease until a put succeeds', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const service = uniqueService('relet-put');
    const kv = fixture.kv();
    const registration = await register(etcd({ service, hosts: server.url, leaseTtl: '1s' }),
      { service, address: '127.0.0.1', port: 4323, id: 'one' }, { signals: [] });
    // The put that follows the new lease fails once, as a deadline during a leader election would.
    const put = KVClient.prototype.put;
    let failed = 0;
    KVClient.prototype.put = function (this: KVClient, ...args: Parameters<KVClient['put']>) {
      if (failed === 0) {
        failed++;
        return Promise.reject(new Error('injected DEADLINE_EXCEEDED'));
      }
      return put.apply(this, args);
    };
    t.after(() => {
      KVClient.prototype.put = put;
    });
    try {
      const key = `/meshkit/services/${service}/one`;
      const first = (await kv.getAll().prefix(key).exec()).kvs[0]?.lease;
      assert.ok(first !== undefined && first !== '0');
      await kv.leaseClient.leaseRevoke({ ID: first });
      // Renewal 1 (ttl/3) grants a new lease and its put fails; renewal 2 finds the new lease alive, key missing.
      await waitFor('the key to come back', async () => (await kv.get(key).string()) !== null, 2500);
      assert.equal(failed, 1, 'the first put did fail');
      const second = (await kv.getAll().prefix(key).exec()).kvs[0]?.lease;
      assert.ok(second !== undefined && second !== '0' && second !== first, 'under a new lease');
    } finally {
      KVClient.prototype.put = put;
      await registration.deregister();
    }
  });

  it('a failed deregister() is not remembered: calling it again revokes the lease', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const service = uniqueService('dereg-retry');
    const kv = fixture.kv();
    const registration = await register(etcd({ service, hosts: server.url, leaseTtl: '10s' }),
      { service, address: '127.0.0.1', port: 4324, id: 'one' }, { signals: [] });
    const revoke = LeaseClient.prototype.leaseRevoke;
    let calls = 0;
    LeaseClient.prototype.leaseRevoke = function (this: LeaseClient, ...args: Parameters<LeaseClient['leaseRevoke']>) {
      calls++;
      return calls === 1 ? Promise.reject(new Error('injected UNAVAILABLE')) : revoke.apply(this, args);
    };
    t.after(() => {
      LeaseClient.prototype.leaseRevoke = revoke;
    });
    const key = `/meshkit/services/${service}/one`;
    await assert.rejects(registration.deregister(), /injected UNAVAILABLE/);
    assert.notEqual(await kv.get(key).string(), null, 'still registered after the failed attempt');
    await registration.deregister();
    assert.equal(calls, 2, 'the second call reached etcd');
    assert.equal(await kv.get(key).string(), null);
    await registration.deregister();
    assert.equal(calls, 2, 'and once done, deregister() stays done');
  });

  it('register() and deregister() in-process: revoking removes the key at once, and nothing stays open', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const service = uniqueService('inproc');
    const kv = fixture.kv();
    await kv.get('warm-up').string(); // the test's own client connects before the count
    const resourcesBefore = activeResources().length;
    const registration = await register(etcd({ service, hosts: server.url, leaseTtl: '3s' }),
      { service, address: '127.0.0.1', port: 4321, id: 'one', zone: 'z1' }, { signals: [] });
    const key = `/meshkit/services/${service}/one`;
    assert.equal(JSON.parse((await kv.get(key).string()) ?? '{}').zone, 'z1');
    await new Promise((resolve) => setTimeout(resolve, 3500));
    assert.notEqual(await kv.get(key).string(), null, 'kept alive past the TTL');
    await registration.deregister();
    await registration.deregister();
    assert.equal(await kv.get(key).string(), null);
    await waitFor('resources released', () => activeResources().length <= resourcesBefore, 3000)
      .catch(() => assert.fail(`still open: ${activeResources().join(', ')} (before: ${resourcesBefore})`));
  });
});
