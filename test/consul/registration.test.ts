import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consul } from '../../src/consul/index.js';
import { client, isMeshkitError, roundRobin } from '../../src/index.js';
import { useConsul } from '../helpers/consul-server.js';
import { startUpstream } from '../helpers/upstream.js';
import { startServedProcess } from './served-process.js';
import { testAgent, uniqueName, within } from './support.js';

describe('register(consul(...)) from a meshkit-served process', () => {
  const registry = useConsul();

  it('registers on start, stays passing through its TTL keep-alive, and deregisters on SIGTERM before it stops accepting', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const agent = testAgent(server.address);
    t.after(() => agent.close());
    const service = uniqueName('served');
    const served = startServedProcess({ CONSUL_ADDRESS: server.address, SERVICE: service, TTL: '1s' });
    t.after(() => {
      served.child.kill('SIGKILL');
    });
    const ready = await served.next('ready');
    assert.deepEqual(await agent.ids(service), [ready['id']]);
    // Three TTLs later it is still passing: meshkit reports every ttl/3.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const passing = (await agent.api.health.service({ service, passing: true })) as unknown[];
    assert.equal(passing.length, 1, 'the TTL check is kept passing');

    served.child.kill('SIGTERM');
    const shutdown = await served.next('shutdown');
    assert.equal(shutdown['stillRegistered'], false, 'deregistered before onShutdown ran');
    assert.equal(shutdown['stillServing'], true, 'still accepting after deregistering');
    assert.deepEqual(await served.exited, { code: 0, signal: null });
    assert.deepEqual(await agent.ids(service), []);
  });

  it('deregister() removes the instance and stops the keep-alive; bad instances and checks are refused', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const agent = testAgent(server.address);
    t.after(() => agent.close());
    const service = uniqueName('direct');
    const provider = consul({ service, address: server.address });
    const http = await provider.register({ service, address: '127.0.0.1', port: 1, id: 'with-http-check', tags: ['v1'], zone: 'z1' }, { http: '/health', interval: '1s' });
    const checks = (await agent.api.agent.check.list()) as Record<string, { ServiceID: string; Type?: string; Definition?: { HTTP?: string } }>;
    assert.ok(Object.values(checks).some((c) => c.ServiceID === 'with-http-check'));
    const services = (await agent.api.agent.service.list()) as Record<string, { Tags: string[]; Meta: Record<string, string> }>;
    assert.deepEqual(services['with-http-check']?.Tags, ['v1']);
    assert.equal(services['with-http-check']?.Meta['zone'], 'z1');
    await http.deregister();
    await http.deregister();
    assert.deepEqual(await agent.ids(service), []);

    await assert.rejects(provider.register({ service, address: '', port: 80 }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /instance\.host/.test(e.message));
    await assert.rejects(provider.register({ service, address: '127.0.0.1', port: 0 }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /instance\.port/.test(e.message));
    await assert.rejects(provider.register({ service, address: '127.0.0.1', port: 80 }, { ttl: 'soon' }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /check\.ttl/.test(e.message));
    await assert.rejects(provider.register({ service, address: '127.0.0.1', port: 80, weight: 1.5 }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /instance\.weight/.test(e.message));
    await within(100, 'nothing registered', async () => (await agent.ids(service)).length === 0);
  });

  it('an HTTP check: Consul probes the instance, which joins passing discovery once healthy and leaves while /health fails', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const service = uniqueName('probed');
    const agent = testAgent(server.address);
    let healthy = true;
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    upstream.handler = (req, res) => {
      const status = req.url === '/health' && !healthy ? 503 : 200;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(req.url === '/health' ? (healthy ? 'healthy' : 'sick') : `ok ${upstream.port}`);
    };
    const provider = consul({ service, address: server.address });
    const registration = await provider.register({ service, id: 'probed', address: '127.0.0.1', port: upstream.port }, { http: '/health', interval: '1s', timeout: '1s' });
    try {
      await using callers = client(service).balancer(roundRobin()).discovery(consul({ service, address: server.address })).build();
      // On a miss, say what Consul and the client saw: a timing failure on a busy machine needs both to be read.
      const joined = await within(10_000, 'passing after the first probe', () => callers.endpoints().endpoints.length === 1).catch(async (error: unknown) => {
        const checks = await agent.api.agent.check.list().catch((e: unknown) => String(e));
        const view = callers.endpoints();
        throw new Error(`${String(error)}; probes seen: ${upstream.requests.filter((r) => r.url === '/health').length}; `
          + `agent checks: ${JSON.stringify(checks)}; client view: ${JSON.stringify({ ...view, lastError: view.lastError?.message })}`, { cause: error });
      });
      assert.ok(upstream.requests.some((r) => r.url === '/health'), 'Consul probed /health');
      const res = await callers.request({ path: '/' });
      assert.equal(await res.body.text(), `ok ${upstream.port}`);

      healthy = false;
      const left = await within(5000, 'gone while /health fails', () => callers.endpoints().endpoints.length === 0);
      healthy = true;
      const back = await within(5000, 'back once /health passes', () => callers.endpoints().endpoints.length === 1);
      t.diagnostic(`joined ${joined.toFixed(0)} ms after registering; left ${left.toFixed(0)} ms after /health began failing; back ${back.toFixed(0)} ms after it recovered (probe interval 1 s)`);
    } finally {
      await registration.deregister();
    }
  });
});
