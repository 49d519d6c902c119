// @meshkit-test isolated: measures what load does to the shedder, so it runs alone (scripts/run-tests.mjs).
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { DEADLINE_HEADER } from '../../src/index.js';
import { meshkit } from '../../src/fastify/index.js';
import type { LoadShedder } from '../../src/server/index.js';
import { closedLoop, everyInterval, watch } from '../server/capacity.js';
import { call, sleep } from '../server/http-call.js';

/** A fresh Fastify server that sheds, whose one route waits `ioMs` (I/O, no CPU). */
async function ioServer(ioMs: number): Promise<{ app: FastifyInstance; shedder: LoadShedder; url: string; agent: http.Agent; close(): Promise<void> }> {
  const app = Fastify();
  await app.register(meshkit, { shedding: {}, lifecycle: { signals: [] } });
  app.get('/io', async () => {
    await sleep(ioMs);
    return 'done';
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const shedder = app.meshkit.shedder;
  assert.ok(shedder !== undefined);
  return {
    app, shedder, agent, url: `${address}/io`,
    close: async () => {
      agent.destroy();
      await app.close();
    },
  };
}

describe('meshkit/fastify shedding under load (real HTTP)', () => {
  it('a caller sending 1 ms deadlines every 20 ms does not drive the limit down: other callers are not shed', async (t) => {
    const server = await ioServer(20);
    t.after(() => server.close());
    const attacker = everyInterval(server.url, 20, 3000, server.agent, { [DEADLINE_HEADER]: '1' });
    const legitimate = closedLoop(server.url, 16, 3000, server.agent);
    const limits = watch(Promise.all([attacker, legitimate]), 10, () => server.shedder.limit);
    const [attacks, result, seen] = await Promise.all([attacker, legitimate, limits]);
    const snapshot = server.shedder.snapshot();
    const total = result.ok + result.refused + result.other;
    t.diagnostic(`legitimate: ${result.ok} ok, ${result.refused} refused; attacker: ${attacks.length} sent; limit min ${Math.min(...seen)}, ` +
      `final ${snapshot.limit}; ${JSON.stringify(snapshot)}`);
    // The limit starts at 20; counting the attacker's late answers as overload took it down by one per sample window.
    // Generously: it never falls below what the 16 callers need, and they are (nearly) never refused.
    assert.ok(Math.min(...seen) >= 16, `the limit fell to ${Math.min(...seen)}`);
    assert.ok(result.refused <= 0.01 * total, `${result.refused} of ${total} legitimate requests refused`);
    assert.ok(result.ok >= 500, `${result.ok} ok`);
    // The attacker's requests finished after their 1 ms: counted aside, neither samples nor overload.
    assert.ok(snapshot.pastDeadline >= 0.9 * attacks.filter((s) => s === 200).length, `${snapshot.pastDeadline} past their deadline`);
  });

  it('a fresh server takes a 300-request burst below its capacity without refusing one (it warms up first)', async (t) => {
    const server = await ioServer(100);
    t.after(() => server.close());
    const answers = await Promise.all(Array.from({ length: 300 }, () => call(server.url, { agent: server.agent })));
    const refused = answers.filter((a) => a.status === 503).length;
    t.diagnostic(`${refused} of 300 refused; ${JSON.stringify(server.shedder.snapshot())}`);
    assert.equal(refused, 0);
    assert.ok(answers.every((a) => a.status === 200));
  });
});
