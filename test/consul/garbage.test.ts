import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { consul } from '../../src/consul/index.js';
import { client, isMeshkitError, subscribe, type DiscoveryErrorMessage, type DiscoveryRejectedMessage, roundRobin } from '../../src/index.js';
import { CONSUL_HOW_TO_GET, startConsul, type ConsulServer } from '../helpers/consul-server.js';
import { serverMissing } from '../helpers/require-server.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { startAgentProxy, type AgentProxy } from './agent-proxy.js';
import { testAgent, uniqueName, within, type TestAgent } from './support.js';

describe('consul() when the registry answers garbage (through a rewriting proxy)', () => {
  let server: ConsulServer | undefined;
  let startError: unknown;
  let agent: TestAgent;
  let proxy: AgentProxy;
  let upstreams: Upstream[] = [];
  before(async () => {
    try {
      server = await startConsul();
      agent = testAgent(server.address);
      proxy = await startAgentProxy(server.address);
    } catch (error) {
      startError = error;
    }
    upstreams = await startUpstreams([{}, {}]);
  });
  after(async () => {
    agent?.close();
    await proxy?.close();
    await Promise.all(upstreams.map((u) => u.close()));
    await server?.stop();
  });
  const ready = (t: TestContext): boolean => {
    if (server !== undefined) return true;
    serverMissing(t, 'Consul', CONSUL_HOW_TO_GET, startError);
    return false;
  };

  it('rejects bad entries one by one with events; good entries survive; calls succeed', async (t) => {
    if (!ready(t)) return;
    const [a, b] = upstreams as [Upstream, Upstream];
    const name = uniqueName('garbage-entries');
    await agent.register(name, 'a', a.port);
    await agent.register(name, 'b', b.port);
    const bad: unknown[] = [
      { Node: { Address: '' }, Service: { ID: 'empty', Address: '', Port: 8080 } },
      { Node: { Address: '127.0.0.1' }, Service: { ID: 'zero', Address: '127.0.0.9', Port: 0 } },
      { Node: { Address: '127.0.0.1' }, Service: { ID: 'string-port', Address: '127.0.0.9', Port: '80' } },
      { Node: { Address: '127.0.0.1' }, Service: { ID: 'tags', Address: '127.0.0.9', Port: 81, Tags: 'v2' } },
      { Node: { Address: '127.0.0.1' }, Service: { ID: 'meta', Address: '127.0.0.9', Port: 82, Meta: { n: 1 } } },
      { Node: { Address: '127.0.0.1' }, Service: { ID: 'weight', Address: '127.0.0.9', Port: 83, Weights: { Passing: -1 } } },
      { Node: 'not an object', Service: null },
      42,
    ];
    proxy.rewrite = (url, answer) => {
      if (!url.startsWith(`/v1/health/service/${name}`)) return answer;
      return { ...answer, body: JSON.stringify([...(JSON.parse(answer.body) as unknown[]), ...bad]) };
    };
    t.after(() => {
      proxy.rewrite = undefined;
    });
    const rejected: DiscoveryRejectedMessage[] = [];
    const stop = subscribe('discoveryRejected', (m) => {
      if (m.service === name) rejected.push(m);
    });
    t.after(stop);

    await using orders = client(name).balancer(roundRobin()).discovery(consul({ service: name, address: proxy.address })).build();
    await within(5000, 'good entries', () => orders.endpoints().endpoints.length === 2);
    assert.equal(rejected.length, bad.length, 'one event per bad entry');
    assert.deepEqual(rejected.map((m) => m.entry), bad);
    assert.ok(rejected.every((m) => isMeshkitError(m.error, 'ERR_INVALID_CONFIG')));
    assert.match(rejected[0]?.error.message ?? '', /Service\.Address/);
    assert.match(rejected[1]?.error.message ?? '', /port/);
    assert.equal(orders.endpoints().stale, false);
    for (let i = 0; i < 4; i++) {
      const res = await orders.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
  });

  it('keeps the last good set through malformed JSON, wrong types and errors, then recovers', async (t) => {
    if (!ready(t)) return;
    const [a, b] = upstreams as [Upstream, Upstream];
    const name = uniqueName('garbage-answers');
    await agent.register(name, 'a', a.port);
    const errors: DiscoveryErrorMessage[] = [];
    const stop = subscribe('discoveryError', (m) => {
      if (m.service === name) errors.push(m);
    });
    t.after(stop);
    t.after(() => {
      proxy.rewrite = undefined;
    });
    const provider = consul({ service: name, address: proxy.address, backoff: { base: '50ms', cap: '200ms' } });
    await using orders = client(name).balancer(roundRobin()).discovery(provider).build();
    await within(5000, 'first set', () => orders.endpoints().endpoints.length === 1);

    const answers: [string, (body: string) => { status: number; body: string }][] = [
      ['malformed JSON', () => ({ status: 200, body: '[{"Node": {"Address": "127.0.0.1"}, "Serv' })],
      ['an object instead of an array', () => ({ status: 200, body: '{"entries": []}' })],
      ['null', () => ({ status: 200, body: 'null' })],
      ['a 500', () => ({ status: 500, body: 'rpc error' })],
    ];
    for (const [label, rewrite] of answers) {
      const errorsBefore = errors.length;
      proxy.rewrite = (url, answer) => (url.startsWith(`/v1/health/service/${name}`) ? { ...answer, ...rewrite(answer.body) } : answer);
      // A change makes the blocking query return with the garbage.
      await agent.register(name, 'b', b.port);
      await within(3000, `error for ${label}`, () => errors.length > errorsBefore);
      const now = orders.endpoints();
      assert.equal(now.stale, true, label);
      assert.deepEqual(now.endpoints.map((e) => e.port), [a.port], `${label}: last good set kept`);
      const res = await orders.request({ path: '/' });
      assert.equal(res.statusCode, 200, `${label}: calls still succeed`);
      await res.body.dump();
      await agent.deregister('b');
    }
    proxy.rewrite = undefined;
    await agent.register(name, 'b', b.port);
    await within(3000, 'recovered', () => !orders.endpoints().stale && orders.endpoints().endpoints.length === 2);
  });

  it('an index that is 0, missing or goes backwards resets without a tight loop', async (t) => {
    if (!ready(t)) return;
    const [a, b] = upstreams as [Upstream, Upstream];
    const name = uniqueName('garbage-index');
    await agent.register(name, 'a', a.port);
    let flip = 0;
    // null keeps the agent's real index; '3' after it goes backwards.
    const indexes: (string | undefined | null)[] = ['0', undefined, null, '3'];
    proxy.rewrite = (url, answer) => {
      if (!url.startsWith(`/v1/health/service/${name}`)) return answer;
      const headers = { ...answer.headers };
      const index = indexes[flip++ % indexes.length];
      if (index === undefined) delete headers['x-consul-index'];
      else if (index !== null) headers['x-consul-index'] = index;
      return { ...answer, headers };
    };
    t.after(() => {
      proxy.rewrite = undefined;
    });
    const minIntervalMs = 200;
    await using orders = client(name).balancer(roundRobin()).discovery(consul({ service: name, address: proxy.address, minInterval: minIntervalMs })).build();
    await within(5000, 'first set', () => orders.endpoints().endpoints.length === 1);
    const from = performance.now();
    const countFrom = proxy.requests.filter((r) => r.url.startsWith(`/v1/health/service/${name}`)).length;
    await agent.register(name, 'b', b.port);
    await within(1000, 'change still seen', () => orders.endpoints().endpoints.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const polls = proxy.requests.filter((r) => r.url.startsWith(`/v1/health/service/${name}`)).length - countFrom;
    const bound = Math.ceil((performance.now() - from) / minIntervalMs) + 1;
    t.diagnostic(`${polls} polls in ${(performance.now() - from).toFixed(0)} ms (bound ${bound})`);
    assert.ok(polls <= bound, `polls ${polls} <= ${bound}`);
    const urls = proxy.requests.filter((r) => r.url.startsWith(`/v1/health/service/${name}`)).map((r) => r.url);
    assert.ok(urls.some((u) => !u.includes('index=')), 'after a reset the watch reads without an index');
    assert.ok(!urls.some((u) => u.includes('index=0')), 'never blocks on index 0');
  });
});
