import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { etcd } from '../../src/etcd/index.js';
import { client, subscribe, type DiscoveryErrorMessage, roundRobin } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { etcdFixture, uniqueService, value, waitFor } from './fixture.js';

describe('etcd outage', () => {
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

  it('keeps serving the last good set while etcd is dead, reports stale, and picks up changes when it returns', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const [a, b, c] = upstreams as [Upstream, Upstream, Upstream];
    const service = uniqueService('outage');
    const prefix = `/meshkit/services/${service}/`;
    const writer = fixture.kv();
    await writer.put(`${prefix}a`).value(value(a.port));
    await writer.put(`${prefix}b`).value(value(b.port));
    writer.close();

    const errors: DiscoveryErrorMessage[] = [];
    const unsubscribe = subscribe('discoveryError', (m) => {
      if (m.service === service) errors.push(m);
    });
    const orders = client(service).balancer(roundRobin()).discovery(etcd({ service, hosts: server.url, backoff: { base: 50, cap: 500 }, requestTimeout: '1s' })).build();
    // Traffic all along: every call must succeed, etcd up or down.
    let calls = 0;
    let failures = 0;
    let running = true;
    const seen = new Set<number>();
    const traffic = (async () => {
      while (running) {
        try {
          const res = await orders.request({ path: '/' });
          seen.add(Number((await res.body.text()).split(' ')[1]));
          calls++;
        } catch {
          failures++;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      await waitFor('a and b', () => orders.endpoints().endpoints.length === 2);

      const killedAt = performance.now();
      await server.kill();
      const errorMs = await waitFor('a discoveryError', () => errors.length > 0, 5000);
      t.diagnostic(`discoveryError ${errorMs.toFixed(0)} ms after kill -9 of etcd`);
      const snapshot = orders.endpoints();
      assert.equal(snapshot.stale, true);
      assert.ok(snapshot.lastError instanceof Error);
      assert.deepEqual(snapshot.endpoints.map((e) => e.port).sort(), [a.port, b.port].sort());
      const callsAtKill = calls;
      await new Promise((resolve) => setTimeout(resolve, 1000)); // a second of traffic with etcd gone
      assert.ok(calls - callsAtKill >= 10, `calls kept flowing while etcd was down (${calls - callsAtKill})`);
      assert.equal(failures, 0);
      assert.ok(errors.length >= 2, 'retries kept trying (and reporting) while etcd was down');
      assert.ok(errors.every((m) => m.source === `etcd:${service}`));
      t.diagnostic(`etcd down for ${(performance.now() - killedAt).toFixed(0)} ms: ${calls - callsAtKill} calls, 0 failures, ${errors.length} discoveryError events`);

      await server.restart();
      const back = performance.now();
      const writer2 = fixture.kv();
      await writer2.put(`${prefix}c`).value(value(c.port));
      await writer2.delete().key(`${prefix}a`);
      const recoverMs = await waitFor('c in, a out after etcd returned', () => {
        const ports = orders.endpoints().endpoints.map((e) => e.port);
        return ports.includes(c.port) && !ports.includes(a.port);
      }, 5000);
      t.diagnostic(`changes reached the client ${recoverMs.toFixed(0)} ms after writing (${(performance.now() - back).toFixed(0)} ms after etcd was healthy again)`);
      assert.equal(orders.endpoints().stale, false);
      seen.clear();
      const callsBefore = calls;
      await waitFor('traffic to c', () => seen.has(c.port) && calls - callsBefore > 10, 2000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      seen.clear();
      await waitFor('more traffic', () => seen.size > 0 && calls - callsBefore > 30, 2000);
      assert.ok(!seen.has(a.port), 'no traffic to the removed instance');
      assert.equal(failures, 0);
    } finally {
      running = false;
      await traffic;
      unsubscribe();
      await orders.close();
    }
  });
});
