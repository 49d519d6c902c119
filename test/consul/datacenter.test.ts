import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { consul } from '../../src/consul/index.js';
import { client, discoveryCacheEntries, roundRobin, type Client } from '../../src/index.js';
import { joinWan, useConsul } from '../helpers/consul-server.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { testAgent, uniqueName, within, type TestAgent } from './support.js';

const ports = (c: Client): number[] => c.endpoints().endpoints.map((e) => e.port).sort();

describe('consul({ datacenter }) across two WAN-joined Consul datacenters', () => {
  // Two single-server datacenters; meshkit talks only to dc1's agent, which forwards `?dc=dc2` over the WAN.
  const dc1 = useConsul({ datacenter: 'dc1', node: 'meshkit-dc1' });
  const dc2 = useConsul({ datacenter: 'dc2', node: 'meshkit-dc2' });
  let joinError: unknown;
  let local: TestAgent | undefined;
  let remote: TestAgent | undefined;
  let upstreams: Upstream[] = [];
  before(async () => {
    upstreams = await startUpstreams([{}, {}, {}]);
    if (dc1.server === undefined || dc2.server === undefined) return;
    try {
      await joinWan(dc1.server, dc2.server);
    } catch (error) {
      joinError = error;
    }
    local = testAgent(dc1.server.address);
    remote = testAgent(dc2.server.address);
  });
  after(async () => {
    local?.close();
    remote?.close();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('watches the named datacenter through the local agent; changes there reach the picker within 1 s', async (t) => {
    const one = dc1.need(t);
    const two = dc2.need(t);
    if (one === undefined || two === undefined || local === undefined || remote === undefined) return;
    if (joinError !== undefined) throw joinError;
    const [a, b, c] = upstreams as [Upstream, Upstream, Upstream];
    const name = uniqueName('dc');
    await local.register(name, 'local-b', b.port);
    await remote.register(name, 'remote-a', a.port);

    const address = one.address;
    await using own = client(name).balancer(roundRobin()).discovery(consul({ service: name, address })).build();
    await using ownByName = client(name).balancer(roundRobin()).discovery(consul({ service: name, address, datacenter: 'dc1' })).build();
    await using far = client(name).balancer(roundRobin()).discovery(consul({ service: name, address, datacenter: 'dc2' })).build();
    await within(5000, 'three sets', () => [own, ownByName, far].every((x) => ports(x).length === 1));
    assert.deepEqual(ports(own), [b.port], 'no datacenter: the agent\'s own');
    assert.deepEqual(ports(ownByName), [b.port]);
    assert.deepEqual(ports(far), [a.port], 'dc2 through dc1\'s agent');
    const res = await far.request({ path: '/' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(a.requests.length, 1, 'traffic goes to the dc2 instance');
    assert.equal(discoveryCacheEntries().filter((e) => e.source === `consul:${name}`).length, 3, 'one watch per datacenter option');

    // Let the dc2 watch settle into a blocking query forwarded over the WAN.
    await new Promise((resolve) => setTimeout(resolve, 300));
    let started = performance.now();
    await remote.register(name, 'remote-c', c.port);
    await within(1000, 'c (registered in dc2) added', () => ports(far).includes(c.port));
    const addMs = performance.now() - started;
    started = performance.now();
    await remote.deregister('remote-a');
    await within(1000, 'a (deregistered in dc2) removed', () => !ports(far).includes(a.port));
    t.diagnostic(`dc2 over the WAN: added after ${addMs.toFixed(0)} ms, removed after ${(performance.now() - started).toFixed(0)} ms`);
    assert.deepEqual(ports(own), [b.port], 'dc1 clients saw none of it');
  });
});
