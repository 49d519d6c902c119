import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { etcd } from '../../src/etcd/index.js';
import { resolveEtcdOptions } from '../../src/etcd/options.js';
import { etcdWatchSource } from '../../src/etcd/watch.js';
import { client, discoveryCacheEntries, sharedResolver, subscribe, type DiscoveryRejectedMessage, roundRobin } from '../../src/index.js';
import { activeResources, startUpstreams, type Upstream } from '../helpers/upstream.js';
import { etcdFixture, uniqueService, value, waitFor } from './fixture.js';

describe('etcd resolver against a real etcd', () => {
  const fixture = etcdFixture();
  let upstreams: Upstream[] = [];
  before(async () => {
    await fixture.before();
    upstreams = await startUpstreams([{}, {}, {}]);
  });
  after(async () => {
    await Promise.all(upstreams.map((u) => u.close()));
    await fixture.after();
  });

  /** Sends `n` calls and returns how many each upstream port answered. */
  async function spread(c: ReturnType<ReturnType<typeof client>['build']>, n: number): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const res = await c.request({ path: '/' });
      const port = Number((await res.body.text()).split(' ')[1]);
      counts.set(port, (counts.get(port) ?? 0) + 1);
    }
    return counts;
  }

  it('an added instance reaches the picker within 1 s, a removed one leaves within 1 s, and traffic follows', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const [a, b] = upstreams as [Upstream, Upstream];
    const service = uniqueService('orders');
    const prefix = `/meshkit/services/${service}/`;
    const kv = fixture.kv();
    await kv.put(`${prefix}a`).value(value(a.port));
    const orders = client(service).balancer(roundRobin()).discovery(etcd({ service, hosts: server.url })).build();
    try {
      assert.deepEqual([...(await spread(orders, 4)).keys()], [a.port]);
      assert.equal(orders.endpoints().source, `etcd:${service}`);

      const added = performance.now();
      await kv.put(`${prefix}b`).value(value(b.port));
      await waitFor('b in the picker', () => orders.endpoints().endpoints.some((e) => e.port === b.port), 1000);
      const addMs = performance.now() - added;
      t.diagnostic(`added instance reached the picker after ${addMs.toFixed(1)} ms`);
      assert.ok(addMs < 1000);
      const both = await spread(orders, 10);
      assert.equal(both.get(a.port), 5);
      assert.equal(both.get(b.port), 5);

      const removed = performance.now();
      await kv.delete().key(`${prefix}a`);
      await waitFor('a out of the picker', () => !orders.endpoints().endpoints.some((e) => e.port === a.port), 1000);
      const removeMs = performance.now() - removed;
      t.diagnostic(`removed instance left the picker after ${removeMs.toFixed(1)} ms`);
      assert.ok(removeMs < 1000);
      assert.deepEqual([...(await spread(orders, 5)).entries()], [[b.port, 5]]);
      assert.equal(orders.endpoints().stale, false);
    } finally {
      await orders.close();
    }
  });

  it('rejects garbage entry by entry with discoveryRejected, keeps good entries, throws nothing into callers', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const [a, b] = upstreams as [Upstream, Upstream];
    const service = uniqueService('garbage');
    const prefix = `/meshkit/services/${service}/`;
    const kv = fixture.kv();
    const garbage: Record<string, string> = {
      json: '{"host": "127.0.0.1", "port":',
      types: '{"host": "127.0.0.1", "port": "80"}',
      empty: '{"host": "", "port": 80}',
      zero: '{"host": "127.0.0.1", "port": 0}',
      array: '[]',
    };
    await kv.put(`${prefix}good-a`).value(value(a.port));
    for (const [name, text] of Object.entries(garbage)) await kv.put(`${prefix}${name}`).value(text);
    const rejected: DiscoveryRejectedMessage[] = [];
    const unsubscribe = subscribe('discoveryRejected', (m) => {
      if (m.service === service) rejected.push(m);
    });
    const c = client(service).balancer(roundRobin()).discovery(etcd({ service, hosts: server.url })).build();
    try {
      await waitFor('first set', () => c.endpoints().ageMs !== undefined);
      await waitFor('5 rejections', () => rejected.length === 5);
      assert.deepEqual(rejected.map((m) => (m.entry as { key: string }).key).sort(), Object.keys(garbage).map((k) => prefix + k).sort());
      for (const m of rejected) assert.equal(m.error.name, 'MeshkitError');
      assert.deepEqual(c.endpoints().endpoints.map((e) => e.port), [a.port]);
      assert.equal((await spread(c, 3)).get(a.port), 3);

      // A garbage write to a live watch: rejected alone, the others survive; a good value for the same key heals it.
      await kv.put(`${prefix}good-b`).value(value(b.port));
      await waitFor('b added', () => c.endpoints().endpoints.length === 2);
      await kv.put(`${prefix}good-b`).value('{"host":"127.0.0.1","port":-5}');
      await waitFor('6th rejection', () => rejected.length === 6);
      assert.equal((rejected[5]?.entry as { key: string }).key, `${prefix}good-b`);
      await waitFor('b left out', () => c.endpoints().endpoints.length === 1);
      assert.deepEqual(c.endpoints().endpoints.map((e) => e.port), [a.port]);
      await kv.put(`${prefix}zero`).value(value(b.port));
      await waitFor('zero healed', () => c.endpoints().endpoints.length === 2);
      assert.equal(c.endpoints().stale, false);
      assert.equal(rejected.length, 6);
    } finally {
      unsubscribe();
      await c.close();
    }
  });

  it('re-syncs after etcd compacted past the watch revision and sees later changes', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const [a, b, c3] = upstreams as [Upstream, Upstream, Upstream];
    const service = uniqueService('compacted');
    const prefix = `/meshkit/services/${service}/`;
    const kv = fixture.kv();
    await kv.put(`${prefix}a`).value(value(a.port));
    let reads = 0;
    let compactedAt = '';
    // Between the first read and the watch: a change the read missed, then a compaction past the read revision.
    const source = etcdWatchSource(resolveEtcdOptions({ service, hosts: server.url }), {
      async afterRead(revision) {
        reads++;
        if (reads !== 1) return;
        await kv.put(`${prefix}b`).value(value(b.port));
        // One more revision (outside the prefix), so the compaction lands past the watch's start (read + 1).
        const latest = (await kv.put(`/meshkit/other/${service}`).value('x').exec()).header.revision;
        await kv.kv.compact({ revision: latest, physical: true });
        compactedAt = latest;
        assert.ok(BigInt(latest) > BigInt(revision));
      },
    });
    const c = client(service).balancer(roundRobin()).discovery(sharedResolver(source)).build();
    try {
      await waitFor('re-sync shows b', () => c.endpoints().endpoints.length === 2);
      assert.equal(reads, 2, 'a second read after the compaction');
      assert.notEqual(compactedAt, '');
      assert.equal(c.endpoints().stale, false);
      await kv.put(`${prefix}c`).value(value(c3.port));
      await waitFor('later change c', () => c.endpoints().endpoints.length === 3, 1000);
      // A compaction under a live, caught-up watch changes nothing; later changes still flow.
      const now = (await kv.get(`${prefix}c`).exec()).header.revision;
      await kv.kv.compact({ revision: now, physical: true });
      await kv.delete().key(`${prefix}a`);
      await waitFor('a removed after compaction', () => c.endpoints().endpoints.length === 2, 1000);
      assert.deepEqual(c.endpoints().endpoints.map((e) => e.port).sort(), [b.port, c3.port].sort());
      assert.equal(reads, 2);
    } finally {
      await c.close();
    }
  });

  it('clients with equal options share one watch, and closing them releases every socket and timer', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const [a] = upstreams as [Upstream];
    const service = uniqueService('shared');
    const kv = fixture.kv();
    await kv.put(`/meshkit/services/${service}/a`).value(value(a.port));
    const before = activeResources().length;
    const one = client(service).balancer(roundRobin()).discovery(etcd({ service, hosts: server.url })).build();
    const two = client(service).balancer(roundRobin()).discovery(etcd({ service, hosts: server.url })).build();
    await waitFor('both resolved', () => one.endpoints().ageMs !== undefined && two.endpoints().ageMs !== undefined);
    const entries = discoveryCacheEntries().filter((e) => e.source === `etcd:${service}`);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.subscribers, 2);
    // Options that change how the watch behaves (its backoff here) give it a watch of its own.
    const three = client(service).balancer(roundRobin()).discovery(etcd({ service, hosts: server.url, backoff: { base: '50ms', cap: '1s' } })).build();
    await waitFor('the third resolved', () => three.endpoints().ageMs !== undefined);
    assert.equal(discoveryCacheEntries().filter((e) => e.source === `etcd:${service}`).length, 2);
    await (await one.request({ path: '/' })).body.dump();
    await one.close();
    await two.close();
    await three.close();
    assert.equal(discoveryCacheEntries().filter((e) => e.source === `etcd:${service}`).length, 0);
    await waitFor('resources released', () => activeResources().length <= before, 3000)
      .catch(() => assert.fail(`still open: ${activeResources().join(', ')} (before: ${before})`));
  });
});
