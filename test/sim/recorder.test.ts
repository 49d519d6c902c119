import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bulkhead, client, roundRobin } from '../../src/index.js';
import { channels } from '../../src/core/diagnostics.js';
import type { Endpoint } from '../../src/core/endpoint.js';
import { SimLoop } from '../../src/sim/event-loop.js';
import { closedLoop, openLoop } from '../../src/sim/load.js';
import { SimRecorder } from '../../src/sim/recorder.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';
import { FakeBackends } from './support.js';

const ENDPOINTS = ['127.0.0.1:9001', '127.0.0.1:9002', '127.0.0.1:9003'];

function noSubscribers(): boolean {
  return !channels.attemptStart.hasSubscribers && !channels.attemptEnd.hasSubscribers && !channels.callEnd.hasSubscribers
    && !channels.ejection.hasSubscribers && !channels.breakerState.hasSubscribers;
}

describe('SimRecorder', () => {
  it('counts calls, attempts, hedges and retries of a real client with retries and hedging', async () => {
    const loop = new SimLoop({ seed: 11 });
    const orders = client('orders').endpoints(ENDPOINTS).clock(loop.clock).balancer(roundRobin())
      .retry({ attempts: 3, budget: false, backoff: { base: '1ms', cap: '2ms' } })
      .hedge({ after: '20ms', budget: 1 })
      .build();
    // Three kinds of call, chosen by the test: a plain one (5 ms), one whose first attempt is refused
    // (a retry, then 5 ms), one whose first attempt takes 100 ms (a hedge at 20 ms answers in 5 ms).
    const kinds = ['plain', 'retry', 'hedge'] as const;
    const issued = { plain: 0, retry: 0, hedge: 0 };
    const answer = (ms: number): Promise<string> => new Promise((resolve) => loop.after(ms, () => resolve('ok')));
    let next = 0;
    const target = (): Promise<unknown> => {
      const kind = kinds[next++ % 3]!;
      issued[kind]++;
      return orders.call((_endpoint: Endpoint, attempt) => {
        if (attempt.number > 1) return answer(5);
        if (kind === 'retry') return Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
        return answer(kind === 'hedge' ? 100 : 5);
      }, { idempotent: true });
    };
    const recorder = new SimRecorder(loop, { duration: '3s' });
    const track = recorder.track('orders', orders);
    const tracker = trackUnhandledRejections();
    recorder.start();
    const run = openLoop(loop, target, { record: track, rate: 60, duration: 2500 });
    await loop.run(3000);
    recorder.stop();
    tracker.stop();
    await orders.close();
    assert.deepEqual(tracker.reasons, []);
    assert.ok(noSubscribers(), 'every subscription removed');

    const report = recorder.report('counts');
    const [row] = report.clients;
    assert.ok(row !== undefined);
    const total = issued.plain + issued.retry + issued.hedge;
    assert.ok(total > 100, `${total} calls`);
    assert.equal(run.issued, total);
    assert.equal(row.userRequests, total);
    assert.equal(row.succeeded, total);
    assert.equal(row.calls, total);
    assert.equal(row.retries, issued.retry);
    assert.equal(row.hedges, issued.hedge);
    assert.equal(row.attempts, total + issued.retry + issued.hedge);
    assert.equal(row.attemptsPerCall, Number(((total + issued.retry + issued.hedge) / total).toFixed(6)));
    assert.equal(row.hedgesPerCall, Number((issued.hedge / total).toFixed(6)));
    // Latency: the plain calls take 5 ms, the hedged 25 ms, the retried 5 ms plus a backoff of at most 2 ms.
    assert.ok(row.latencyMs.p50 >= 5 && row.latencyMs.p50 <= 7, `p50 ${row.latencyMs.p50}`);
    assert.equal(row.latencyMs.p90, 25);
    assert.equal(row.latencyMs.max, 25);
    assert.deepEqual(row.errors, {});
    assert.equal(report.seed, 11);
    assert.equal(report.durationMs, 3000);
  });

  it('records ejections and breaker transitions with their virtual times, and samples limits every bucket', async () => {
    const loop = new SimLoop({ seed: 2 });
    // 9003 resets every connection; from 2 s on, every endpoint fails for 1.5 s (the breaker opens, then recovers).
    const fakes = new FakeBackends(loop, ENDPOINTS.map((id) => ({
      id,
      zone: id.endsWith('1') ? 'a' : 'b',
      behaviour: (now: number) => (id.endsWith('3') ? { latencyMs: 1, failWith: 'ECONNRESET' }
        : now >= 2000 && now < 3500 ? { latencyMs: 2, failWith: 'ECONNRESET' } : { latencyMs: 4 }),
    })));
    const payments = client('payments').endpoints(ENDPOINTS).clock(loop.clock).balancer(roundRobin())
      .outlierDetection({ consecutiveGatewayFailures: 3, baseEjectionTime: '30s', maxEjectionPercent: 50 })
      .circuitBreaker({ volumeThreshold: 10, errorThreshold: 0.5, window: '1s', resetTimeout: '500ms' })
      .retry(false)
      .policy(bulkhead({ maxConcurrent: 4, maxQueue: 100 }))
      .build();
    const recorder = new SimRecorder(loop, { duration: 6000, backends: fakes.sources });
    const track = recorder.track('payments', [payments]);
    recorder.start();
    closedLoop(loop, () => payments.call(fakes.call), { record: track, callers: 6, thinkMs: 5, duration: 6000 });
    await loop.run(6000);
    recorder.stop();
    // Calls still in flight finish in virtual time: close while the loop runs on.
    const closing = payments.close();
    await loop.run(7000);
    await closing;
    const report = recorder.report('timelines');

    const ejections = report.timelines.ejections;
    assert.ok(ejections.length >= 1);
    assert.deepEqual(ejections[0], {
      t: ejections[0]!.t, client: 'payments', endpoint: '127.0.0.1:9003', ejected: true, reason: 'consecutive-gateway-failures',
    });
    assert.ok(ejections[0]!.t < 200, `ejected at ${ejections[0]!.t} ms`);
    const states = report.timelines.breakers.map((b) => b.state);
    assert.deepEqual(states.slice(0, 2), ['open', 'half-open']);
    assert.equal(states.at(-1), 'closed');
    const opened = report.timelines.breakers[0]!;
    assert.ok(opened.t >= 2000 && opened.t < 3500, `opened at ${opened.t}`);
    assert.ok(report.timelines.breakers.at(-1)!.t >= 3500, 'closed once the failures stopped');
    for (let i = 1; i < report.timelines.breakers.length; i++) assert.ok(report.timelines.breakers[i]!.t >= report.timelines.breakers[i - 1]!.t);
    const row = report.clients[0]!;
    assert.ok((row.errors['ERR_CIRCUIT_OPEN'] ?? 0) > 0 && (row.errors['ERR_UPSTREAM'] ?? 0) > 0, JSON.stringify(row.errors));
    assert.equal(row.succeeded + row.failed, row.userRequests);

    // Sampled at the end of each of the 6 buckets.
    const series = new Map(report.timelines.limiters.map((s) => [s.series, s.values]));
    for (const name of ['activeCalls', 'availableEndpoints', 'ejectedEndpoints', 'bulkhead.active', 'bulkhead.queued']) {
      assert.equal(series.get(name)?.length, 6, name);
    }
    assert.deepEqual(series.get('ejectedEndpoints')?.slice(0, 2), [1, 1]);
    assert.deepEqual(series.get('availableEndpoints')?.slice(0, 2), [2, 2]);
    assert.ok(series.get('bulkhead.active')!.every((v) => v >= 0 && v <= 4));

    // Backend load per bucket, from the sources, in the order given.
    assert.deepEqual(report.backends.map((b) => [b.id, b.zone, b.requests.length]), ENDPOINTS.map((id) => [id, id.endsWith('1') ? 'a' : 'b', 6]));
    for (const backend of report.backends) {
      const source = fakes.sources.find((s) => s.id === backend.id)!;
      assert.equal(backend.totalRequests, source.buckets().reduce((sum, b) => sum + b.arrivals, 0));
      assert.equal(backend.requests.reduce((a, b) => a + b, 0), backend.totalRequests);
    }
    assert.ok(report.backends[2]!.totalRequests <= 5, 'the ejected endpoint got almost nothing');
  });

  it('samples the first clients of a fleet track, each series their mean', async () => {
    const means: number[] = [];
    for (const sampleClients of [undefined, 2]) {
      const loop = new SimLoop();
      const busy = client('fleet-1').endpoints(ENDPOINTS).clock(loop.clock).build();
      const idle = client('fleet-2').endpoints(ENDPOINTS).clock(loop.clock).build();
      const recorder = new SimRecorder(loop, { duration: 1000, ...(sampleClients === undefined ? {} : { sampleClients }) });
      recorder.track('fleet', [busy, idle]);
      recorder.start();
      // Two calls held in flight across the sample at 1 s.
      const held = [0, 1].map(() => busy.call(() => new Promise((resolve) => loop.after(1500, () => resolve('ok')))));
      await loop.run(2000);
      recorder.stop();
      await Promise.all(held);
      const closing = Promise.all([busy.close(), idle.close()]);
      await loop.run(3000);
      await closing;
      const active = recorder.report('fleet').timelines.limiters.find((s) => s.series === 'activeCalls');
      assert.equal(active?.values.length, 1);
      means.push(active!.values[0]!);
    }
    assert.deepEqual(means, [2, 1], 'the first client alone by default; the mean of both with sampleClients: 2');
  });

  it('refuses a second recorder while one records, and a client name two tracks would share', async () => {
    const loop = new SimLoop();
    const a = client('a').endpoints(ENDPOINTS).clock(loop.clock).build();
    const first = new SimRecorder(loop, { duration: 10 });
    const second = new SimRecorder(loop, { duration: 10 });
    first.track('a', a);
    assert.throws(() => first.track('a', a), { code: 'ERR_INVALID_ARGUMENT' });
    assert.throws(() => first.track('other', a), { code: 'ERR_INVALID_ARGUMENT', message: /a is in a/ });
    assert.throws(() => first.track('none', []), { code: 'ERR_INVALID_ARGUMENT' });
    first.start();
    try {
      assert.throws(() => second.start(), { code: 'ERR_INVALID_CONFIG', message: /Another SimRecorder is recording/ });
      assert.equal(first.recording, true);
      assert.equal(second.recording, false);
    } finally {
      first.stop();
      first.stop();
    }
    second.start();
    second.stop();
    assert.ok(noSubscribers());
    assert.equal(loop.pending, 0, 'the sampler is cancelled');
    assert.throws(() => new SimRecorder(loop, { duration: 10, bucket: 5 } as never), { code: 'ERR_INVALID_CONFIG', message: /did you mean `bucketMs`/ });
    assert.throws(() => new SimRecorder(loop, {} as never), { code: 'ERR_INVALID_CONFIG', message: /duration/ });
    assert.throws(() => new SimRecorder(loop, { duration: '1 minute' }), { code: 'ERR_INVALID_CONFIG', message: /duration/ });
    assert.throws(() => new SimRecorder(loop, { duration: 10, bucketMs: 0 }), { code: 'ERR_INVALID_CONFIG', message: /bucketMs/ });
    assert.throws(() => new SimRecorder(loop, { duration: 10, backends: [{}] } as never), { code: 'ERR_INVALID_CONFIG', message: /backends/ });
    assert.throws(() => new SimRecorder(loop, { duration: 10, sample: 'yes' } as never), { code: 'ERR_INVALID_CONFIG', message: /sample/ });
    assert.throws(() => new SimRecorder(loop, { duration: 10, sampleClients: 0 }), { code: 'ERR_INVALID_CONFIG', message: /sampleClients/ });
    await a.close();
  });
});
