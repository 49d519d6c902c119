import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { consul } from '../../src/consul/index.js';
import { client } from '../../src/index.js';
import { testAgent, uniqueName, within } from '../consul/support.js';
import { useConsul } from '../helpers/consul-server.js';
import { call, sleep } from './http-call.js';
import { startInstance, type ServedInstance } from './served-instances.js';

/** Resolves true when a fresh TCP connection to the port is accepted, false when refused. */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('SIGTERM on a registered service under load (real Consul, real child processes)', () => {
  const registry = useConsul();

  it('each instance leaves Consul before it stops accepting, finishes its in-flight requests, and callers see no failed request', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const address = server.address;
    const agent = testAgent(address);
    t.after(() => agent.close());
    const service = uniqueName('inbound');
    const instances: ServedInstance[] = [
      startInstance({ FRAMEWORK: 'express', CONSUL_ADDRESS: address, SERVICE: service, ID: `${service}-a` }),
      startInstance({ FRAMEWORK: 'fastify', CONSUL_ADDRESS: address, SERVICE: service, ID: `${service}-b` }),
      startInstance({ FRAMEWORK: 'express', CONSUL_ADDRESS: address, SERVICE: service, ID: `${service}-c` }),
    ];
    t.after(() => {
      for (const instance of instances) instance.child.kill('SIGKILL');
    });
    const ports = new Map<string, number>();
    for (const instance of instances) ports.set(instance.id, (await instance.next('listening'))['port'] as number);

    await using callers = client(service)
      .discovery(consul({ service, address }))
      .retry({ attempts: 3 })
      .timeout({ perTry: '3s', total: '6s' })
      .build();
    await within(10_000, 'the client sees all three instances', () => callers.endpoints().endpoints.length === 3);

    // Load: 6 callers in closed loops through meshkit (Consul discovery, retries).
    const servedBy = new Map<string, number>();
    const failures: string[] = [];
    let calls = 0;
    let stop = false;
    const loops = Array.from({ length: 6 }, async () => {
      while (!stop) {
        calls++;
        try {
          const res = await callers.request({ path: '/work?ms=20' });
          const body = await res.body.text();
          if (res.statusCode !== 200) failures.push(`${res.statusCode} ${body}`);
          else servedBy.set(body, (servedBy.get(body) ?? 0) + 1);
        } catch (error) {
          failures.push(String(error));
        }
      }
    });

    const shutDown = async (instance: ServedInstance): Promise<void> => {
      const port = ports.get(instance.id) as number;
      // A long request in flight when the signal arrives must still complete.
      const slow = call(`http://127.0.0.1:${port}/work?ms=1500`);
      await sleep(100);
      let leftConsulAt: number | undefined;
      let refusedAt: number | undefined;
      let probing = true;
      const probes = (async () => {
        while (probing && (leftConsulAt === undefined || refusedAt === undefined)) {
          const [ids, open] = await Promise.all([agent.ids(service), accepting(port)]);
          const now = Date.now();
          if (leftConsulAt === undefined && !ids.includes(instance.id)) leftConsulAt = now;
          if (refusedAt === undefined && !open) refusedAt = now;
          await sleep(10);
        }
      })();
      instance.child.kill('SIGTERM');
      const exit = await instance.exited;
      probing = false;
      await probes;
      const answer = await slow;
      assert.deepEqual(exit, { code: 0, signal: null }, `${instance.id} exited on its own after draining: ${instance.stderr()}`);
      assert.equal(answer.status, 200, `${instance.id}: the in-flight request completed`);
      assert.equal(answer.body, `ok ${instance.id}`);
      assert.ok(leftConsulAt !== undefined && refusedAt !== undefined && leftConsulAt < refusedAt,
        `${instance.id} left Consul (${leftConsulAt}) before refusing connections (${refusedAt})`);
      const order = instance.events.map((e) => e['event']).filter((e) => e !== 'listening' && e !== 'ready');
      assert.deepEqual(order, ['draining', 'deregistered', 'stopped-accepting', 'drained', 'closed', 'exit']);
      const at = (name: string): number => instance.events.find((e) => e['event'] === name)?.['at'] as number;
      assert.ok(at('deregistered') + 900 <= at('stopped-accepting'), 'kept accepting for the propagation delay after deregistering');
      assert.equal(instance.events.find((e) => e['event'] === 'drained')?.['abandoned'], 0, 'no request cut off');
      t.diagnostic(`${instance.id}: deregistered ${at('deregistered') - at('draining')} ms after SIGTERM handling began, ` +
        `stopped accepting ${at('stopped-accepting') - at('deregistered')} ms later, drained ${at('drained') - at('stopped-accepting')} ms later; ` +
        `probes: gone from Consul ${refusedAt - leftConsulAt} ms before connections were refused`);
    };

    await sleep(500);
    const [a, b, c] = instances as [ServedInstance, ServedInstance, ServedInstance];
    const servedBefore = new Map(servedBy);
    await shutDown(a); // Express
    await shutDown(b); // Fastify
    const cBefore = servedBy.get(`ok ${c.id}`) ?? 0;
    await sleep(300);
    stop = true;
    await Promise.all(loops);

    t.diagnostic(`${calls} calls, served by ${JSON.stringify(Object.fromEntries(servedBy))}, ${failures.length} failed`);
    assert.deepEqual(failures, [], 'no caller saw a failed request');
    for (const instance of instances) assert.ok((servedBefore.get(`ok ${instance.id}`) ?? 0) > 0, `${instance.id} took load before the signals`);
    assert.ok((servedBy.get(`ok ${c.id}`) ?? 0) > cBefore, 'the remaining instance took the load');
    assert.deepEqual(await agent.ids(service), [c.id]);
    c.child.kill('SIGTERM');
    assert.deepEqual(await c.exited, { code: 0, signal: null });
    assert.deepEqual(await agent.ids(service), []);
  });
});
