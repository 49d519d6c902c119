import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { client, roundRobin, subscribe, type Client } from '../../src/index.js';
import { breakerRotations } from '../../src/policies/circuit-breaker.js';
import type { EjectionMessage } from '../../src/core/diagnostics.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function send(c: Client, calls: number): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < calls; i++) {
    const res = await c.request({ path: '/' });
    codes.push(res.statusCode);
    await res.body.dump();
  }
  return codes;
}

describe('endpoint circuit breakers in a client (real HTTP servers)', () => {
  let ups: Upstream[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  before(async () => {
    ups = await startUpstreams([{}, {}, { status: 503 }]);
    process.on('unhandledRejection', onUnhandled);
  });
  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await Promise.all(ups.map((u) => u.close()));
  });

  it('one of three endpoints fails: its breaker opens and traffic moves; after the reset it recovers through a trial', async () => {
    const [a, b, failing] = ups as [Upstream, Upstream, Upstream];
    const messages: EjectionMessage[] = [];
    const unsubscribe = subscribe('ejection', (m) => messages.push(m));
    const c = client('breaking').endpoints(ups.map((u) => u.address)).balancer(roundRobin()).retry(false)
      .endpointCircuitBreakers({ volumeThreshold: 5, errorThreshold: 0.5, resetTimeout: '2s' })
      .build();
    try {
      const health = () => c.endpoints().health.find((h) => h.id === failing.address);
      const first = await send(c, 15);
      assert.equal(failing.requests.length, 5, 'round robin: 5 of 15 reached the failing endpoint');
      assert.equal(first.filter((code) => code === 503).length, 5);
      assert.deepEqual([health()?.circuit, health()?.ejected, health()?.reason], ['open', true, 'circuit-open']);
      assert.deepEqual(c.endpoints().available.map((e) => e.id), [a.address, b.address]);
      const row = c.snapshot().endpoints.find((e) => e.id === failing.address);
      assert.deepEqual([row?.available, row?.ejected, row?.ejectionReason, row?.circuit], [false, true, 'circuit-open', 'open']);

      // Traffic moves: the open endpoint gets nothing, every call succeeds.
      const moved = await send(c, 30);
      assert.deepEqual(new Set(moved), new Set([200]));
      assert.equal(health()?.circuit, 'open', 'still inside the 2 s reset timeout');
      assert.equal(failing.requests.length, 5, 'no request reached the open endpoint');
      assert.equal(a.requests.length + b.requests.length, 40);

      // It recovers; after the reset timeout it is back half-open and the trial closes it.
      failing.behaviour = {};
      await waitFor('half-open', () => health()?.circuit === 'half-open');
      assert.equal(c.endpoints().available.length, 3);
      const after = await send(c, 30);
      assert.deepEqual(new Set(after), new Set([200]));
      assert.equal(health()?.circuit, 'closed');
      assert.ok(failing.requests.length >= 5 + 9, `it takes its share again (${failing.requests.length - 5} of 30)`);
      assert.deepEqual(
        messages.filter((m) => m.endpoint.id === failing.address).map((m) => [m.ejected, m.reason]),
        [[true, 'circuit-open'], [false, 'circuit-open']],
      );
      assert.ok(breakerRotations().some((r) => r.breakers === 3), 'three endpoint breakers, one rotation');
    } finally {
      unsubscribe();
      await c.close();
    }
    assert.deepEqual(breakerRotations(), [], 'close() released every endpoint breaker');
    assert.deepEqual(unhandled, []);
  });

  it('with retries the failing endpoint costs nothing once open: callers never see its 503s', async () => {
    const failing = ups[2] as Upstream;
    failing.behaviour = { status: 503 };
    failing.requests.length = 0;
    const c = client('breaking-retried').endpoints(ups.map((u) => u.address)).balancer(roundRobin())
      .retry({ attempts: 2 })
      .endpointCircuitBreakers({ volumeThreshold: 3, errorThreshold: 0.5, resetTimeout: '1h' })
      .build();
    try {
      const codes = await send(c, 60);
      assert.deepEqual(new Set(codes), new Set([200]), 'the retry goes to another endpoint');
      assert.equal(failing.requests.length, 3, 'three failed attempts opened the breaker; nothing after');
      assert.equal(c.endpoints().health.find((h) => h.id === failing.address)?.reason, 'circuit-open');
    } finally {
      await c.close();
    }
  });
});
