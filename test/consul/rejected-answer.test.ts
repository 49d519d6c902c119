import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { consul } from '../../src/consul/index.js';
import {
  allowCidrs, client, discoveryCacheEntries, isMeshkitError, RejectedAnswerError, roundRobin, subscribe,
  type Client, type DiscoveryErrorMessage, type DiscoveryRejectedMessage,
} from '../../src/index.js';
import { useConsul } from '../helpers/consul-server.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { testAgent, uniqueName, within, type TestAgent } from './support.js';

const ports = (c: Client): number[] => c.endpoints().endpoints.map((e) => e.port).sort();

/** The service ids a rejected entry (a Consul health entry) belongs to. */
const serviceIds = (entries: readonly unknown[]): string[] => entries.map((entry) => (entry as { Service: { ID: string } }).Service.ID).sort();

describe('consul(): answers whose every instance is invalid keep the last good set (real agent)', () => {
  const registry = useConsul();
  let agent: TestAgent;
  let upstreams: Upstream[] = [];
  before(async () => {
    if (registry.server !== undefined) agent = testAgent(registry.server.address);
    upstreams = await startUpstreams([{}, {}]);
  });
  after(async () => {
    agent?.close();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  /** Registers through the agent API as an operator (or a broken registrar) would. */
  async function registerRaw(name: string, id: string, address: string, port: number): Promise<void> {
    await agent.api.agent.service.register({ name, id, address, port, check: { ttl: '1h', status: 'passing' } as never });
  }

  /**
   * Registers a node and a service through the catalog API, as an external
   * registrar does. Consul refuses a service address spelled exactly
   * `0.0.0.0` or `::`, but not a node address of `0.0.0.0`, which a service
   * without an address of its own inherits.
   */
  async function registerInCatalog(node: string, nodeAddress: string, name: string, id: string, address: string, port: number): Promise<void> {
    const res = await fetch(`${registry.server?.address}/v1/catalog/register`, {
      method: 'PUT',
      body: JSON.stringify({ Node: node, Address: nodeAddress, Service: { Service: name, ID: id, Address: address, Port: port } }),
    });
    assert.equal(res.status, 200, await res.text());
  }

  it('port 0 and 0.0.0.0 / :: instances (service or node address) are rejected one by one; with no valid one left the set stays, stale, and the error lists them all', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const [a, b] = upstreams as [Upstream, Upstream];
    const name = uniqueName('all-invalid');
    const errors: DiscoveryErrorMessage[] = [];
    const rejected: DiscoveryRejectedMessage[] = [];
    t.after(subscribe('discoveryError', (m) => {
      if (m.service === name) errors.push(m);
    }));
    t.after(subscribe('discoveryRejected', (m) => {
      if (m.service === name) rejected.push(m);
    }));
    await registerRaw(name, 'a', '127.0.0.1', a.port);
    await using orders = client(name).balancer(roundRobin()).retry(false).discovery(consul({ service: name, address: server.address })).build();
    await within(5000, 'the first set', () => ports(orders).length === 1);

    // Partly invalid: each bad instance is rejected, the good one stays.
    await registerRaw(name, 'zero-port', '127.0.0.1', 0);
    // Other spellings of 0.0.0.0 and :: pass Consul's own check, which compares the text.
    await registerRaw(name, 'any-v4', '000.0.0.0', b.port);
    await registerRaw(name, 'any-v6', '0:0:0:0:0:0:0:0', b.port);
    await registerInCatalog(`${name}-node`, '0.0.0.0', name, 'node-any', '', b.port);
    const ids = (): string[] => [...new Set(serviceIds(rejected.map((m) => m.entry)))];
    await within(2000, 'four rejections', () => ids().length === 4);
    assert.deepEqual(ids(), ['any-v4', 'any-v6', 'node-any', 'zero-port']);
    assert.ok(rejected.every((m) => isMeshkitError(m.error, 'ERR_INVALID_CONFIG')));
    assert.deepEqual(ports(orders), [a.port]);
    assert.equal(orders.endpoints().stale, false);

    // The good instance leaves: every instance left is invalid. The last good set stays, and the error names each entry.
    await agent.deregister('a');
    await within(2000, 'the discoveryError', () => errors.length > 0);
    const snapshot = orders.endpoints();
    assert.deepEqual(ports(orders), [a.port], 'the last good set stays in use');
    assert.equal(snapshot.stale, true);
    assert.ok(snapshot.lastError instanceof RejectedAnswerError);
    assert.equal(errors[0]?.error, snapshot.lastError);
    assert.deepEqual(serviceIds(snapshot.lastError.rejected.map((r) => r.entry)), ['any-v4', 'any-v6', 'node-any', 'zero-port']);
    assert.match(snapshot.lastError.message, /^consul:all-invalid-\d+-\d+: every entry of the answer was rejected \(4\)/);
    const res = await orders.request({ path: '/' });
    assert.equal(res.statusCode, 200, 'calls go on to the last good set');
    await res.body.dump();

    // No instance at all is a real answer: the set empties and calls fail fast.
    for (const id of ['zero-port', 'any-v4', 'any-v6']) await agent.deregister(id);
    const gone = await fetch(`${server.address}/v1/catalog/deregister`, { method: 'PUT', body: JSON.stringify({ Node: `${name}-node` }) });
    assert.equal(gone.status, 200);
    await within(2000, 'the empty set', () => orders.endpoints().endpoints.length === 0);
    assert.equal(orders.endpoints().stale, false);
    await assert.rejects(orders.request({ path: '/' }), (e: unknown) => isMeshkitError(e, 'ERR_NO_ENDPOINTS'));
  });

  it('an Address with a port (which the agent accepts) is rejected as one entry: every call reaches the good instance', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const [a] = upstreams as [Upstream];
    const name = uniqueName('host-port');
    const rejected: DiscoveryRejectedMessage[] = [];
    t.after(subscribe('discoveryRejected', (m) => {
      if (m.service === name) rejected.push(m);
    }));
    await registerRaw(name, 'good', '127.0.0.1', a.port);
    await registerRaw(name, 'mistake', `127.0.0.1:${a.port}`, a.port);
    await using orders = client(name).retry(false).discovery(consul({ service: name, address: server.address })).build();
    await within(5000, 'the set and the rejection', () => ports(orders).length === 1 && rejected.length === 1);
    assert.deepEqual(orders.endpoints().endpoints.map((e) => e.id), [`127.0.0.1:${a.port}`]);
    assert.deepEqual(serviceIds(rejected.map((m) => m.entry)), ['mistake']);
    assert.ok(isMeshkitError(rejected[0]?.error, 'ERR_INVALID_CONFIG'));
    assert.match(rejected[0]?.error.message ?? '', /Service\.host: expected a host without ":port"/);
    assert.equal(orders.endpoints().stale, false);
    for (let i = 0; i < 20; i++) {
      const res = await orders.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
  });

  it('Weights.Warning 0: an instance in warning is left out silently (no rejection, no error, not stale), and back when it passes', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const [a] = upstreams as [Upstream];
    const name = uniqueName('warning-zero');
    const reports: string[] = [];
    t.after(subscribe('discoveryRejected', (m) => {
      if (m.service === name) reports.push(`rejected ${m.error.message}`);
    }));
    t.after(subscribe('discoveryError', (m) => {
      if (m.service === name) reports.push(`error ${m.error.message}`);
    }));
    // The consul package does not send Weights: the agent API directly.
    const put = await fetch(`${server.address}/v1/agent/service/register`, {
      method: 'PUT',
      body: JSON.stringify({ Name: name, ID: 'w0', Address: '127.0.0.1', Port: a.port, Weights: { Passing: 5, Warning: 0 }, Check: { TTL: '1h', Status: 'passing' } }),
    });
    assert.equal(put.status, 200, await put.text());
    await using orders = client(name).discovery(consul({ service: name, address: server.address, passingOnly: false })).build();
    await within(5000, 'the first set', () => ports(orders).length === 1);
    assert.equal(orders.endpoints().endpoints[0]?.weight, 5);
    await agent.api.agent.check.warn({ id: 'service:w0' });
    await within(2000, 'the instance in warning leaves', () => ports(orders).length === 0);
    assert.equal(orders.endpoints().stale, false);
    await agent.pass('w0');
    await within(2000, 'back once it passes', () => ports(orders).length === 1);
    assert.deepEqual(reports, []);
  });

  it('endpointFilter: instances outside the allowed blocks are rejected; with none allowed the filtered client keeps its last set; one watch for both clients', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const [a] = upstreams as [Upstream];
    const name = uniqueName('filtered');
    const rejected: DiscoveryRejectedMessage[] = [];
    t.after(subscribe('discoveryRejected', (m) => {
      if (m.service === `${name}-filtered`) rejected.push(m);
    }));
    await registerRaw(name, 'a', '127.0.0.1', a.port);
    await registerRaw(name, 'elsewhere', '127.0.0.2', a.port);
    await using filtered = client(`${name}-filtered`).retry(false)
      .discovery(consul({ service: name, address: server.address, endpointFilter: allowCidrs(['127.0.0.1/32']) })).build();
    await using plain = client(`${name}-plain`).discovery(consul({ service: name, address: server.address })).build();
    await within(5000, 'both sets', () => filtered.endpoints().endpoints.length === 1 && plain.endpoints().endpoints.length === 2);
    assert.deepEqual(filtered.endpoints().endpoints.map((e) => e.host), ['127.0.0.1']);
    assert.deepEqual(rejected.map((m) => (m.entry as { host: string }).host), ['127.0.0.2']);
    assert.equal(discoveryCacheEntries().filter((e) => e.source === `consul:${name}`).length, 1, 'one watch');

    await agent.deregister('a');
    await within(2000, 'the filtered client turns stale', () => filtered.endpoints().stale);
    assert.deepEqual(filtered.endpoints().endpoints.map((e) => e.host), ['127.0.0.1'], 'its last allowed set stays');
    assert.ok(filtered.endpoints().lastError instanceof RejectedAnswerError);
    await within(2000, 'the plain client follows', () => plain.endpoints().endpoints.length === 1);
    assert.equal(plain.endpoints().stale, false);
  });
});
