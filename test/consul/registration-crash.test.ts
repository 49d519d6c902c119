import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useConsul } from '../helpers/consul-server.js';
import { startServedProcess } from './served-process.js';
import { testAgent, uniqueName, within } from './support.js';

// Consul raises DeregisterCriticalServiceAfter to at least 1 minute and its
// reaper runs every 30 s (neither is configurable, not even in -dev mode), so a
// crashed instance leaves the catalog between 1 min + TTL and 1.5 min + TTL after
// the crash. It leaves passing-only discovery as soon as its TTL runs out.
const TTL_MS = 1000;
const REAP_BOUND_MS = TTL_MS + 60_000 + 30_000 + 10_000;

describe('a meshkit-served process killed with SIGKILL', () => {
  const registry = useConsul();

  it('leaves passing discovery once its TTL runs out, and the catalog once Consul reaps it', { timeout: REAP_BOUND_MS + 30_000 }, async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const agent = testAgent(server.address);
    t.after(() => agent.close());
    const service = uniqueName('crashing');
    const served = startServedProcess({ CONSUL_ADDRESS: server.address, SERVICE: service, TTL: `${TTL_MS}ms` });
    const ready = await served.next('ready');
    assert.deepEqual(await agent.ids(service), [ready['id']]);

    served.child.kill('SIGKILL');
    await served.exited;
    const killedAt = performance.now();
    const passingGone = await within(TTL_MS + 3000, 'critical after the TTL', async () =>
      ((await agent.api.health.service({ service, passing: true })) as unknown[]).length === 0);
    const reaped = await within(REAP_BOUND_MS, 'reaped from the agent', async () => (await agent.ids(service)).length === 0);
    t.diagnostic(`left passing discovery ${passingGone.toFixed(0)} ms after kill -9; removed from Consul ${(performance.now() - killedAt).toFixed(0)} ms after (${reaped.toFixed(0)} ms after turning critical)`);
  });
});
