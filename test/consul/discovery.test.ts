import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { consul } from '../../src/consul/index.js';
import { client, discoveryCacheEntries, subscribe, type Client, type EndpointsMessage, roundRobin } from '../../src/index.js';
import { CONSUL_NODE_META, useConsul } from '../helpers/consul-server.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { testAgent, uniqueName, within, type TestAgent } from './support.js';

/** Sends `count` GETs and returns how many each upstream port answered. */
async function spread(c: Client, count: number): Promise<Map<number, number>> {
  const hits = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const res = await c.request({ path: '/' });
    const port = Number((await res.body.text()).split(' ')[1]);
    hits.set(port, (hits.get(port) ?? 0) + 1);
  }
  return hits;
}

const ports = (c: Client): number[] => c.endpoints().endpoints.map((e) => e.port).sort();

describe('consul() discovery against a real Consul agent', () => {
  const registry = useConsul();
  let agent: TestAgent;
  let upstreams: Upstream[] = [];

  before(async () => {
    if (registry.server !== undefined) agent = testAgent(registry.server.address);
    upstreams = await startUpstreams([{}, {}, {}]);
  });
  after(async () => {
    agent?.close();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('registered instances reach the picker within 1 s, deregistered and failing ones leave within 1 s; traffic follows', async (t) => {
    const consulServer = registry.need(t);
    if (consulServer === undefined) return;
    const [a, b, c] = upstreams as [Upstream, Upstream, Upstream];
    const name = uniqueName('orders');
    await agent.register(name, 'a', a.port);
    const events: EndpointsMessage[] = [];
    const stopEvents = subscribe('endpoints', (m) => {
      if (m.service === name) events.push(m);
    });
    t.after(stopEvents);
    const changes = (): string[] => events.map((m) => [...m.added.map((e) => `+${e.port}`), ...m.removed.map((e) => `-${e.port}`)].join(' '));
    await using orders = client(name).balancer(roundRobin()).discovery(consul({ service: name, address: consulServer.address })).build();
    await within(5000, 'first set', () => ports(orders).length === 1);
    assert.deepEqual([...(await spread(orders, 4)).keys()], [a.port]);
    const timings: Record<string, number> = {};

    // Let the watch settle into a blocking query, as a long-running client would be.
    await new Promise((resolve) => setTimeout(resolve, 300));
    let started = performance.now();
    await agent.register(name, 'b', b.port);
    await within(1000, 'b added', () => ports(orders).includes(b.port));
    timings['register'] = performance.now() - started;
    const afterAdd = await spread(orders, 10);
    assert.equal(afterAdd.get(a.port), 5);
    assert.equal(afterAdd.get(b.port), 5);

    started = performance.now();
    await agent.deregister('a');
    await within(1000, 'a removed', () => !ports(orders).includes(a.port));
    timings['deregister'] = performance.now() - started;
    const before = a.requests.length;
    assert.deepEqual([...(await spread(orders, 6)).keys()], [b.port]);
    assert.equal(a.requests.length, before, 'no request lands on a deregistered instance');

    await agent.register(name, 'c', c.port);
    await within(1000, 'c added', () => ports(orders).includes(c.port));
    started = performance.now();
    await agent.fail('c');
    await within(1000, 'c (critical) removed', () => !ports(orders).includes(c.port));
    timings['failing check'] = performance.now() - started;
    const cBefore = c.requests.length;
    assert.deepEqual([...(await spread(orders, 6)).keys()], [b.port]);
    assert.equal(c.requests.length, cBefore, 'no request lands on a failing instance');

    started = performance.now();
    await agent.pass('c');
    await within(1000, 'c back when passing', () => ports(orders).includes(c.port));
    timings['passing again'] = performance.now() - started;
    // Each change was one endpoints event naming what was added and what was removed.
    assert.deepEqual(changes(), [`+${a.port}`, `+${b.port}`, `-${a.port}`, `+${c.port}`, `-${c.port}`, `+${c.port}`]);
    assert.ok(events.every((m) => m.source === `consul:${name}`));
    t.diagnostic(`propagation (ms): ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
  });

  it('maps entries: Node.Address fallback, Weights.Passing, Meta.zone, tags and metadata; filters by tags, node meta and health', async (t) => {
    const consulServer = registry.need(t);
    if (consulServer === undefined) return;
    const name = uniqueName('maps');
    const [a, b, c] = upstreams as [Upstream, Upstream, Upstream];
    // Registered without an address: the endpoint takes the node's address (127.0.0.1).
    await agent.api.agent.service.register({ name, id: 'no-address', port: a.port, tags: ['v2', 'blue'], meta: { zone: 'eu-1a', team: 'x' }, check: { ttl: '1h', status: 'passing' } as never });
    const registrar = consul({ service: name, address: consulServer.address });
    const weighted = await registrar.register({ service: name, id: 'weighted', address: '127.0.0.1', port: b.port, weight: 3, tags: ['v1'] }, { ttl: '1h' });
    await agent.register(name, 'critical', c.port, { tags: ['v2'], status: 'critical' });
    try {
      const address = consulServer.address;
      await using all = client(name).balancer(roundRobin()).discovery(consul({ service: name, address })).build();
      await within(5000, 'set', () => ports(all).length === 2);
      const byPort = new Map(all.endpoints().endpoints.map((e) => [e.port, e]));
      const plain = byPort.get(a.port);
      assert.equal(plain?.host, '127.0.0.1');
      assert.equal(plain?.zone, 'eu-1a');
      assert.deepEqual(plain?.tags, ['v2', 'blue']);
      assert.deepEqual(plain?.metadata, { zone: 'eu-1a', team: 'x' });
      assert.equal(plain?.weight, 1);
      assert.equal(byPort.get(b.port)?.weight, 3);
      assert.equal(byPort.get(b.port)?.zone, undefined);
      assert.equal(all.endpoints().source, `consul:${name}`);

      await using v2 = client(name).balancer(roundRobin()).discovery(consul({ service: name, address, tags: ['v2', 'blue'] })).build();
      await within(5000, 'tag filter', () => v2.endpoints().ageMs !== undefined);
      assert.deepEqual(ports(v2), [a.port]);

      await using anyHealth = client(name).balancer(roundRobin()).discovery(consul({ service: name, address, passingOnly: false, tags: ['v2'] })).build();
      await within(5000, 'critical included', () => ports(anyHealth).length === 2);
      assert.deepEqual(ports(anyHealth), [a.port, c.port].sort());

      await using rack = client(name).balancer(roundRobin()).discovery(consul({ service: name, address, nodeMeta: { [CONSUL_NODE_META.key]: CONSUL_NODE_META.value } })).build();
      await using otherRack = client(name).balancer(roundRobin()).discovery(consul({ service: name, address, nodeMeta: { [CONSUL_NODE_META.key]: 'elsewhere' } })).build();
      await within(5000, 'node meta', () => ports(rack).length === 2 && otherRack.endpoints().ageMs !== undefined);
      assert.deepEqual(ports(otherRack), []);

      await using wrongDc = client(name).balancer(roundRobin()).discovery(consul({ service: name, address, datacenter: 'nowhere', backoff: { base: '50ms', cap: '100ms' } })).build();
      await within(5000, 'unknown datacenter is an error', () => wrongDc.endpoints().lastError !== undefined);
      assert.match(wrongDc.endpoints().lastError?.message ?? '', /consul:/);
    } finally {
      await weighted.deregister();
    }
  });

  it('clients with equal options share one watch, and closing them releases it', async (t) => {
    const consulServer = registry.need(t);
    if (consulServer === undefined) return;
    const name = uniqueName('shared');
    await agent.register(name, 'one', (upstreams[0] as Upstream).port);
    const options = { service: name, address: consulServer.address };
    const first = client(name).balancer(roundRobin()).discovery(consul(options)).build();
    const second = client(name).balancer(roundRobin()).discovery(consul({ ...options })).build();
    await within(5000, 'both resolved', () => ports(first).length === 1 && ports(second).length === 1);
    const mine = discoveryCacheEntries().filter((e) => e.source === `consul:${name}`);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]?.subscribers, 2);
    await first.close();
    await second.close();
    assert.equal(discoveryCacheEntries().filter((e) => e.source === `consul:${name}`).length, 0);
  });
});
