import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { consul } from '../../src/consul/index.js';
import { client, subscribe, type DiscoveryErrorMessage, type DiscoveryStaleMessage, roundRobin } from '../../src/index.js';
import { useConsul } from '../helpers/consul-server.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { testAgent, uniqueName, within } from './support.js';

describe('consul() when the agent is killed mid-traffic', () => {
  const registry = useConsul();
  let upstreams: Upstream[] = [];
  before(async () => {
    upstreams = await startUpstreams([{}, {}, {}]);
  });
  after(async () => {
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('keeps serving the last good set, reports stale, and picks up changes when Consul returns', async (t) => {
    const consulServer = registry.need(t);
    if (consulServer === undefined) return;
    const [a, b, c] = upstreams as [Upstream, Upstream, Upstream];
    const name = uniqueName('outage');
    let agent = testAgent(consulServer.address);
    await agent.register(name, 'a', a.port);
    await agent.register(name, 'b', b.port);
    agent.close();

    const errors: DiscoveryErrorMessage[] = [];
    const stopErrors = subscribe('discoveryError', (m) => {
      if (m.service === name) errors.push(m);
    });
    t.after(stopErrors);
    const staleEvents: DiscoveryStaleMessage[] = [];
    t.after(subscribe('discoveryStale', (m) => {
      if (m.service === name) staleEvents.push(m);
    }));
    const provider = consul({ service: name, address: consulServer.address, backoff: { base: '100ms', cap: '400ms' } });
    await using orders = client(name).balancer(roundRobin()).discovery(provider).build();
    await within(5000, 'first set', () => orders.endpoints().endpoints.length === 2);

    // Traffic runs the whole time; every call must succeed.
    let calls = 0;
    const failureReasons: string[] = [];
    let running = true;
    const traffic = (async () => {
      while (running) {
        try {
          const res = await orders.request({ path: '/' });
          await res.body.dump();
          if (res.statusCode === 200) calls += 1;
          else failureReasons.push(`status ${res.statusCode}`);
        } catch (error) {
          failureReasons.push(String((error as Error).message));
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    try {
      await consulServer.kill();
      const staleAfter = await within(5000, 'stale', () => orders.endpoints().stale && errors.length > 0);
      t.diagnostic(`stale ${staleAfter.toFixed(0)} ms after the kill; error: ${errors[0]?.error.message}`);
      const callsWhenStale = calls;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok(calls > callsWhenStale + 20, `calls kept flowing while Consul was down (${calls - callsWhenStale})`);
      assert.deepEqual(orders.endpoints().endpoints.map((e) => e.port).sort(), [a.port, b.port].sort());
      assert.ok(errors.every((m) => m.staleForMs !== undefined && m.staleForMs >= 0));
      const errorsWhileDown = errors.length;
      assert.deepEqual(staleEvents.map((m) => m.stale), [true], 'one stale event for the outage, however many polls failed');
      assert.equal(staleEvents[0]?.source, `consul:${name}`);
      // A restarted agent that lost its state truthfully answers "no instances" until they register again,
      // so the traffic check covers the outage itself.
      running = false;
      await traffic;
      assert.deepEqual(failureReasons, [], 'no call failed while Consul was down');

      // The agent comes back empty and the services register again (b does not).
      await consulServer.restart();
      const restarted = performance.now();
      agent = testAgent(consulServer.address);
      await agent.register(name, 'a', a.port);
      await agent.register(name, 'c', c.port);
      agent.close();
      await within(3000, 'changes flow again', () => {
        const now = orders.endpoints();
        return !now.stale && now.endpoints.map((e) => e.port).sort().join() === [a.port, c.port].sort().join();
      });
      t.diagnostic(`recovered ${(performance.now() - restarted).toFixed(0)} ms after the restart; ${errorsWhileDown} error events while down`);
      assert.deepEqual(staleEvents.map((m) => m.stale), [true, false], 'and one when discovery recovered');
      assert.ok((staleEvents[1]?.staleForMs ?? 0) >= 1500, `stale for ${staleEvents[1]?.staleForMs} ms`);
      // The error backoff is capped at 400 ms with jitter: about 1500/200 polls at most, never a tight loop.
      assert.ok(errorsWhileDown < 40, `error polls while down: ${errorsWhileDown}`);
      const cBefore = c.requests.length;
      for (let i = 0; i < 4; i++) await (await orders.request({ path: '/' })).body.dump();
      assert.equal(c.requests.length - cBefore, 2, 'traffic reaches the instance registered after the restart');
    } finally {
      running = false;
      await traffic;
    }
  });

  it('a TTL registration comes back by itself after the agent restarts without its state', async (t) => {
    const consulServer = registry.need(t);
    if (consulServer === undefined) return;
    const name = uniqueName('reregister');
    const registration = await consul({ service: name, address: consulServer.address })
      .register({ service: name, id: 'self', address: '127.0.0.1', port: (upstreams[0] as Upstream).port }, { ttl: '1s' });
    try {
      await consulServer.restart();
      const restarted = performance.now();
      const agent = testAgent(consulServer.address);
      t.after(() => agent.close());
      // The next keep-alive (every ttl/3) finds its check unknown and registers the service again, passing.
      await within(5000, 'registered and passing again', async () =>
        ((await agent.api.health.service({ service: name, passing: true })) as unknown[]).length === 1);
      t.diagnostic(`back in the restarted agent ${(performance.now() - restarted).toFixed(0)} ms after it was ready`);
    } finally {
      await registration.deregister();
    }
  });

  it('an HTTP-check registration comes back by itself after the agent restarts without its state', async (t) => {
    const consulServer = registry.need(t);
    if (consulServer === undefined) return;
    const name = uniqueName('reregister-http');
    const registration = await consul({ service: name, address: consulServer.address })
      .register({ service: name, id: 'self-http', address: '127.0.0.1', port: (upstreams[0] as Upstream).port }, { http: '/health', interval: '1s' });
    try {
      await consulServer.restart();
      const restarted = performance.now();
      const agent = testAgent(consulServer.address);
      t.after(() => agent.close());
      // No keep-alive here: meshkit asks the agent every interval whether it still has the service.
      await within(5000, 'registered again', async () => (await agent.ids(name)).length === 1);
      await within(5000, 'and passing once Consul probed it', async () =>
        ((await agent.api.health.service({ service: name, passing: true })) as unknown[]).length === 1);
      t.diagnostic(`back in the restarted agent ${(performance.now() - restarted).toFixed(0)} ms after it was ready`);
    } finally {
      await registration.deregister();
    }
  });
});
