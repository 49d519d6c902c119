import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bulkhead, client, peakEwma, roundRobin, snapshotAll, type Client, type ClientSnapshot } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('client.snapshot() and snapshotAll()', () => {
  let ups: Upstream[] = [];
  before(async () => {
    ups = await startUpstreams([{}, {}, {}, { status: 503 }]);
  });
  after(async () => {
    await Promise.all(ups.map((u) => u.close()));
  });

  it('shows endpoints with load, in flight and ejection state, discovery, budgets and policy states', async () => {
    const failing = ups[3] as Upstream;
    const bh = bulkhead({ maxConcurrent: 8 });
    await using c = client('snap-orders')
      .endpoints(ups.map((u) => ({ host: '127.0.0.1', port: u.port, zone: u === failing ? 'zone-b' : 'zone-a' })))
      // No failure penalty: the failing endpoint looks as fast as the rest, so P2C keeps picking it until it is ejected.
      // A short decay: a slow first response (a connection being set up) must not keep an endpoint unpicked for the whole test.
      .balancer(peakEwma({ failurePenalty: 0, decay: '20ms' }))
      .outlierDetection({ maxEjectionPercent: 25 })
      .retry({ attempts: 2 })
      .hedge({ after: '5s' })
      .circuitBreaker({ volumeThreshold: 1000 })
      .policy(bh)
      .build();
    let calls = 0;
    const ejected = (): boolean => c.endpoints().health.some((h) => h.ejected);
    for (; calls < 400 && (calls < 40 || !ejected()); calls++) await (await c.request({ path: '/' })).body.dump();
    assert.ok(ejected(), `the failing endpoint was ejected within ${calls} calls`);

    // One call held in flight on whichever endpoint the balancer picks.
    let release = (): void => undefined;
    const holding = c.call((endpoint) => new Promise<string>((resolve) => {
      release = () => resolve(endpoint.id);
    }));
    await new Promise((resolve) => setImmediate(resolve));
    try {
      await check();
    } finally {
      release();
    }
    const picked = await holding;
    assert.ok(c.snapshot().endpoints.some((e) => e.id === picked && !e.ejected));
    assert.equal(c.snapshot().activeCalls, 0);
    assert.equal(c.snapshot().endpoints.reduce((sum, e) => sum + (e.inFlight ?? 0), 0), 0);

    async function check(): Promise<void> {
      const snapshot = c.snapshot();
      assert.equal(snapshot.service, 'snap-orders');
      assert.ok(Math.abs(Date.parse(snapshot.takenAt) - Date.now()) < 60_000, 'takenAt is now (ISO 8601)');
      assert.equal(snapshot.closed, false);
      assert.equal(snapshot.activeCalls, 1);
      assert.deepEqual(
        [snapshot.discovery.source, snapshot.discovery.endpoints, snapshot.discovery.stale, snapshot.discovery.lastError],
        ['static', 4, false, undefined],
      );
      assert.ok(typeof snapshot.discovery.ageMs === 'number' && snapshot.discovery.ageMs >= 0);
      assert.deepEqual(snapshot.endpoints.map((e) => e.id), ups.map((u) => u.address), 'one entry per endpoint, in discovery order');

      const bad = snapshot.endpoints.find((e) => e.id === failing.address);
      assert.deepEqual(
        [bad?.ejected, bad?.ejectionReason, bad?.available, bad?.zone, bad?.ejections],
        [true, 'consecutive-gateway-failures', false, 'zone-b', 1],
      );
      assert.ok((bad?.ejectedForMs ?? 0) > 0, 'ejected for a while yet');
      const good = snapshot.endpoints.filter((e) => e.id !== failing.address);
      for (const e of good) {
        assert.deepEqual([e.ejected, e.available, e.zone, e.weight, e.ejectionReason], [false, true, 'zone-a', 1, undefined], e.id);
        assert.ok(typeof e.latencyMs === 'number' && e.latencyMs > 0, `${e.id} has a latency estimate (peak EWMA)`);
        assert.ok(typeof e.load === 'number' && e.load > 0, `${e.id} has a load`);
      }
      assert.equal(good.reduce((sum, e) => sum + (e.inFlight ?? 0), 0), 1, 'the held call is in flight on one endpoint');

      assert.ok(typeof snapshot.retryBudgetRemaining === 'number' && snapshot.retryBudgetRemaining > 0);
      assert.ok(typeof snapshot.hedgeBudgetRemaining === 'number' && snapshot.hedgeBudgetRemaining > 0);
      assert.deepEqual(snapshot.policies.map((p) => p.name), ['circuit-breaker', 'bulkhead']);
      const [breaker, limit] = snapshot.policies.map((p) => p.state as Record<string, unknown>);
      assert.deepEqual([breaker?.['kind'], breaker?.['state']], ['circuit-breaker', 'closed']);
      assert.ok((breaker?.['calls'] as number) >= calls, 'the breaker counted the calls');
      assert.deepEqual([limit?.['kind'], limit?.['active'], limit?.['maxConcurrent']], ['bulkhead', 1, 8]);

      // Plain JSON: it survives a round trip (undefined fields drop out, as JSON has no undefined).
      const parsed = JSON.parse(JSON.stringify(snapshot)) as ClientSnapshot;
      assert.equal(parsed.endpoints.length, 4);
      assert.equal(parsed.endpoints.find((e) => e.id === failing.address)?.ejectionReason, 'consecutive-gateway-failures');
    }
  });

  it('leaves budgets undefined when retries and hedging are off; balancers without estimates give none', async () => {
    await using c = client('snap-plain').endpoints([(ups[0] as Upstream).address]).balancer(roundRobin()).retry(false).build();
    await (await c.request({ path: '/' })).body.dump();
    const snapshot = c.snapshot();
    assert.deepEqual([snapshot.retryBudgetRemaining, snapshot.hedgeBudgetRemaining, snapshot.policies.length], [undefined, undefined, 0]);
    const [endpoint] = snapshot.endpoints;
    assert.deepEqual(
      [endpoint?.ejected, endpoint?.available, endpoint?.latencyMs, endpoint?.ejections, endpoint?.slowStartFactor],
      [false, true, undefined, 0, undefined],
    );
  });

  it('snapshotAll() lists open clients in build order; a closed client leaves it', async () => {
    const ours = (): string[] => snapshotAll().map((s) => s.service).filter((name) => name.startsWith('snap-all-'));
    const before = ours();
    assert.deepEqual(before, []);
    const a = client('snap-all-a').endpoints([(ups[0] as Upstream).address]).build();
    const b = client('snap-all-b').endpoints([(ups[1] as Upstream).address]).build();
    let closedLater: Client | undefined = b;
    try {
      assert.deepEqual(ours(), ['snap-all-a', 'snap-all-b']);
      const all = snapshotAll().filter((s) => s.service.startsWith('snap-all-'));
      assert.deepEqual(all.map((s) => [s.endpoints.length, s.closed]), [[1, false], [1, false]]);
      const closing = a.close();
      assert.deepEqual(ours(), ['snap-all-b'], 'gone as soon as close() starts');
      await closing;
      assert.equal(a.snapshot().closed, true, 'a closed client still answers snapshot()');
      await b.close();
      closedLater = undefined;
      assert.deepEqual(ours(), []);
    } finally {
      await a.close();
      await closedLater?.close();
    }
  });
});
