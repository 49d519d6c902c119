import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { consul } from '../../src/consul/index.js';
import { client, type Client, roundRobin } from '../../src/index.js';
import { CONSUL_HOW_TO_GET, startConsul, type ConsulServer } from '../helpers/consul-server.js';
import { serverMissing } from '../helpers/require-server.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { startAgentProxy, type AgentProxy } from './agent-proxy.js';
import { testAgent, uniqueName, within } from './support.js';

const WATCHES = 100;
const MIN_INTERVAL_MS = 250;

describe('100 Consul watches through one agent while an unrelated service flaps', () => {
  let server: ConsulServer | undefined;
  let startError: unknown;
  let proxy: AgentProxy;
  let upstream: Upstream;
  before(async () => {
    try {
      server = await startConsul();
      proxy = await startAgentProxy(server.address);
    } catch (error) {
      startError = error;
    }
    upstream = await startUpstream();
  });
  after(async () => {
    await proxy?.close();
    await upstream.close();
    await server?.stop();
  });

  it('each watch polls at most once per minInterval (plus the initial read), and none loops', async (t) => {
    if (server === undefined) return serverMissing(t, 'Consul', CONSUL_HOW_TO_GET, startError);
    const agent = testAgent(server.address);
    t.after(() => agent.close());
    const names = Array.from({ length: WATCHES }, () => uniqueName('load'));
    // Half the services have an instance, half have none (older Consul versions answered those with the
    // catalog-wide index, so unrelated changes woke them; 1.8 keeps a per-service index for both).
    const registered = names.slice(0, WATCHES / 2);
    const empty = names.slice(WATCHES / 2);
    await Promise.all(registered.map((name) => agent.register(name, `${name}-1`, upstream.port)));
    const clients: Client[] = names.map((name) =>
      client(name).balancer(roundRobin()).discovery(consul({ service: name, address: proxy.address, minInterval: MIN_INTERVAL_MS })).build());
    t.after(() => Promise.all(clients.map((c) => c.close())));
    const started = performance.now();
    await within(10_000, 'all watches resolved', () => clients.every((c, i) =>
      c.endpoints().ageMs !== undefined && c.endpoints().endpoints.length === (i < WATCHES / 2 ? 1 : 0)));

    const pollsOf = (name: string, from: number): number =>
      proxy.requests.filter((r) => r.at >= from && r.url.startsWith(`/v1/health/service/${name}?`)).length;

    // The flapping service changes the agent's state (and for some queries the index) many times a second.
    const flapper = uniqueName('flapper');
    const flapFrom = performance.now();
    let flaps = 0;
    while (performance.now() - flapFrom < 3000) {
      await agent.register(flapper, flapper, upstream.port);
      await agent.deregister(flapper);
      flaps += 1;
    }
    const flapWindow = performance.now() - started;
    const perWatchBound = Math.floor(flapWindow / MIN_INTERVAL_MS) + 1;
    const counts = names.map((name) => pollsOf(name, 0));
    const total = counts.reduce((a, b) => a + b, 0);
    const emptyCounts = empty.map((name) => pollsOf(name, 0));
    const registeredCounts = registered.map((name) => pollsOf(name, 0));
    t.diagnostic(`${flaps} flaps; ${total} health polls from ${WATCHES} watches in ${flapWindow.toFixed(0)} ms `
      + `(bound ${perWatchBound} per watch); services with an instance: max ${Math.max(...registeredCounts)} per watch; `
      + `services without: max ${Math.max(...emptyCounts)}, min ${Math.min(...emptyCounts)} per watch`);
    for (const [i, count] of counts.entries()) assert.ok(count <= perWatchBound, `${names[i]}: ${count} polls > ${perWatchBound}`);
    assert.ok(total <= WATCHES * perWatchBound);

    // Quiet again: blocking queries wait; nothing spins.
    const quietFrom = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const quiet = names.map((name) => pollsOf(name, quietFrom));
    const quietBound = Math.floor((performance.now() - quietFrom) / MIN_INTERVAL_MS) + 1;
    t.diagnostic(`quiet 1.5 s: ${quiet.reduce((a, b) => a + b, 0)} polls in all, max ${Math.max(...quiet)} per watch`);
    for (const count of quiet) assert.ok(count <= quietBound);
    // Only the watches' own requests reached the agent through the proxy.
    assert.equal(proxy.requests.filter((r) => !r.url.startsWith('/v1/health/service/')).length, 0);
  });
});
