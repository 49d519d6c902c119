import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { consul } from '../../src/consul/index.js';
import { client, subscribe, type Client, roundRobin } from '../../src/index.js';
import { CONSUL_HOW_TO_GET, startConsul, type ConsulServer } from '../helpers/consul-server.js';
import { serverMissing } from '../helpers/require-server.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { startAgentProxy, type AgentProxy } from './agent-proxy.js';
import { uniqueName, within } from './support.js';

const WATCHES = 100;
const MIN_INTERVAL_MS = 250;
const FLAP_MS = 3000;
/** The node (registered through the catalog API) that hosts the watched instances. */
const RACK = 'meshkit-rack';
/** Where the unrelated service flaps. */
const FLAP_NODE = 'meshkit-flapper';

/** PUT to the agent's HTTP API directly (not through the counting proxy). */
async function put(address: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${address}${path}`, { method: 'PUT', body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok || text.trim() !== 'true') throw new Error(`PUT ${path}: ${res.status} ${text}`);
}

/** X-Consul-Index of a health query for `service`, read directly from the agent. */
async function indexOf(address: string, service: string): Promise<number> {
  const res = await fetch(`${address}/v1/health/service/${service}?passing`);
  await res.arrayBuffer();
  return Number(res.headers.get('x-consul-index'));
}

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

  it('the index moves many times a second, yet each watch polls at most once per minInterval, and none loops', async (t) => {
    if (server === undefined) return serverMissing(t, 'Consul', CONSUL_HOW_TO_GET, startError);
    const agent = server.address;
    const names = Array.from({ length: WATCHES }, () => uniqueName('load'));
    // Half the services have an instance (on RACK), half have none: Consul moves their indexes for different unrelated changes.
    const registered = names.slice(0, WATCHES / 2);
    const empty = names.slice(WATCHES / 2);
    const flapper = uniqueName('flapper');
    const rackCheck = (output: string) => ({ Node: RACK, Address: '127.0.0.1', Check: { CheckID: 'rack-power', Name: 'rack power', Status: 'passing', Output: output } });
    await put(agent, '/v1/catalog/register', rackCheck('start'));
    for (const name of registered) {
      await put(agent, '/v1/catalog/register', { Node: RACK, Address: '127.0.0.1', Service: { ID: `${name}-1`, Service: name, Address: '127.0.0.1', Port: upstream.port } });
    }

    const updates = new Map<string, number>();
    const stopUpdates = subscribe('endpoints', (m) => updates.set(m.service, (updates.get(m.service) ?? 0) + 1));
    t.after(stopUpdates);
    const started = performance.now();
    const clients: Client[] = names.map((name) =>
      client(name).balancer(roundRobin()).discovery(consul({ service: name, address: proxy.address, minInterval: MIN_INTERVAL_MS })).build());
    t.after(() => Promise.all(clients.map((c) => c.close())));
    await within(10_000, 'all watches resolved', () => clients.every((c, i) =>
      c.endpoints().ageMs !== undefined && c.endpoints().endpoints.length === (i < WATCHES / 2 ? 1 : 0)));
    const updatesBefore = new Map(updates);

    const pollsOf = (name: string, from: number, to = Number.POSITIVE_INFINITY): number =>
      proxy.requests.filter((r) => r.at >= from && r.at <= to && r.url.startsWith(`/v1/health/service/${name}?`)).length;

    // Each flap: the unrelated service appears on another node and goes away (Consul moves the index that
    // queries for services without instances report), and a node-level check on the rack that hosts the
    // watched instances gets new output (Consul moves the index of every service on that node). The watched
    // answers change only in check output: their endpoint sets never change.
    const indexesBefore = [await indexOf(agent, registered[0] as string), await indexOf(agent, empty[0] as string)];
    const flapFrom = performance.now();
    let flaps = 0;
    while (performance.now() - flapFrom < FLAP_MS) {
      await put(agent, '/v1/catalog/register', { Node: FLAP_NODE, Address: '127.0.0.1', Service: { ID: flapper, Service: flapper, Port: upstream.port } });
      await put(agent, '/v1/catalog/deregister', { Node: FLAP_NODE, ServiceID: flapper });
      await put(agent, '/v1/catalog/register', rackCheck(`flap ${flaps}`));
      flaps += 1;
    }
    const flapTo = performance.now();
    const indexesAfter = [await indexOf(agent, registered[0] as string), await indexOf(agent, empty[0] as string)];

    const sinceStart = flapTo - started;
    const perWatchBound = Math.floor(sinceStart / MIN_INTERVAL_MS) + 1;
    const counts = names.map((name) => pollsOf(name, 0, flapTo));
    const duringFlaps = (group: string[]): number[] => group.map((name) => pollsOf(name, flapFrom, flapTo));
    const flapPolls = { registered: duringFlaps(registered), empty: duringFlaps(empty) };
    // Counted by arrival at the proxy: a poll started just before the window may arrive inside it (+1).
    const flapBound = Math.floor((flapTo - flapFrom) / MIN_INTERVAL_MS) + 2;
    const summary = (list: number[]): string => `min ${Math.min(...list)}, max ${Math.max(...list)}`;
    t.diagnostic(`${flaps} flaps in ${(flapTo - flapFrom).toFixed(0)} ms; health index moved `
      + `${(indexesAfter[0] ?? 0) - (indexesBefore[0] ?? 0)} (service with an instance) and ${(indexesAfter[1] ?? 0) - (indexesBefore[1] ?? 0)} (service without)`);
    t.diagnostic(`polls per watch while flapping (bound ${flapBound}): with an instance ${summary(flapPolls.registered)}; `
      + `without ${summary(flapPolls.empty)}; ${counts.reduce((a, b) => a + b, 0)} health polls in all since the watches started `
      + `${sinceStart.toFixed(0)} ms earlier (bound ${perWatchBound} per watch, ${WATCHES * perWatchBound} in all)`);

    // The changes really reached the watches: the indexes moved far more often than the floor lets a watch poll...
    for (const [i, label] of [[0, 'with an instance'], [1, 'without an instance']] as const) {
      assert.ok((indexesAfter[i] ?? 0) - (indexesBefore[i] ?? 0) > flapBound, `the index of a service ${label} moved with the flaps`);
    }
    // ...and woke the watches of services with an instance (left alone, a watch polls once per 30 s wait).
    // Consul 1.8 moves the index of services without instances too, but does not wake their blocking
    // queries for it: those watches stay in the one query they had.
    const woken = flapPolls.registered.filter((n) => n >= 3).length;
    assert.ok(woken >= registered.length * 0.9, `${woken} of ${registered.length} watches woke up for the unrelated changes`);
    // ...yet no watch polled more than the minimum interval allows.
    for (const [i, count] of counts.entries()) assert.ok(count <= perWatchBound, `${names[i]}: ${count} polls > ${perWatchBound}`);
    for (const count of [...flapPolls.registered, ...flapPolls.empty]) assert.ok(count <= flapBound);
    // Unchanged sets are not re-delivered: no client saw an update during the flapping.
    const spurious = names.filter((name) => (updates.get(name) ?? 0) !== (updatesBefore.get(name) ?? 0));
    assert.deepEqual(spurious, [], 'no endpoint update for answers that differ only in check output');
    // So each client's set keeps its age: older than the whole flapping.
    const young = clients.filter((c) => (c.endpoints().ageMs ?? 0) < flapTo - flapFrom).map((c) => c.endpoints().service);
    assert.deepEqual(young, [], 'every set is older than the flapping');

    // Quiet again: each watch is back in one blocking query (at most the answer to the last change, then one that waits).
    const quietFrom = performance.now() + 300;
    await new Promise((resolve) => setTimeout(resolve, 1800));
    const quiet = names.map((name) => pollsOf(name, quietFrom));
    t.diagnostic(`quiet 1.5 s: ${quiet.reduce((a, b) => a + b, 0)} polls in all, max ${Math.max(...quiet)} per watch`);
    for (const [i, count] of quiet.entries()) assert.ok(count <= 2, `${names[i]} still polling when quiet: ${count}`);
    // Only the watches' own requests reached the agent through the proxy.
    assert.equal(proxy.requests.filter((r) => !r.url.startsWith('/v1/health/service/')).length, 0);
  });
});
