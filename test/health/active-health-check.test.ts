import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError, toEndpoint, type Endpoint } from '../../src/index.js';
import { ActiveHealthChecker, type HealthProber } from '../../src/health/active-health-check.js';
import { resolveHealthCheck, type HealthCheckOptions } from '../../src/health/active-health-check-options.js';
import { EndpointHealthFilter } from '../../src/health/endpoint-health-filter.js';
import { resolveOutlierDetection } from '../../src/health/outlier-options.js';
import { HttpStatusClassifier } from '../../src/transports/http-classifier.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

function fleet(count: number): Endpoint[] {
  return Array.from({ length: count }, (_, i) => toEndpoint(`127.0.0.1:${3000 + i}`, 'e'));
}

type Answer = boolean | 'hang';

/** A prober under the test's control: answers at once (or never), records every probe. */
class FakeProber implements HealthProber {
  readonly probes: { id: string; at: number; signal: AbortSignal }[] = [];
  readonly forgotten: string[] = [];
  closed = 0;
  inFlight = 0;
  maxInFlightPerEndpoint = 0;
  readonly #inFlightBy = new Map<string, number>();
  answer: (id: string) => Answer = () => true;

  constructor(readonly clock: VirtualClock) {}

  probe(endpoint: Endpoint, signal: AbortSignal): Promise<boolean> {
    this.probes.push({ id: endpoint.id, at: this.clock.now(), signal });
    const n = (this.#inFlightBy.get(endpoint.id) ?? 0) + 1;
    this.#inFlightBy.set(endpoint.id, n);
    this.maxInFlightPerEndpoint = Math.max(this.maxInFlightPerEndpoint, n);
    this.inFlight++;
    const done = (): void => {
      this.inFlight--;
      this.#inFlightBy.set(endpoint.id, (this.#inFlightBy.get(endpoint.id) ?? 1) - 1);
    };
    return new Promise<boolean>((resolve, reject) => {
      const answer = this.answer(endpoint.id);
      if (answer === 'hang') {
        signal.addEventListener('abort', () => {
          done();
          reject(new Error('aborted'));
        }, { once: true });
      } else {
        done();
        resolve(answer);
      }
    });
  }

  forget(id: string): void {
    this.forgotten.push(id);
  }

  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }

  times(id: string): number[] {
    return this.probes.filter((p) => p.id === id).map((p) => p.at);
  }
}

function checker(options: HealthCheckOptions = {}, clock = new VirtualClock()) {
  const prober = new FakeProber(clock);
  const verdicts: [string, boolean][] = [];
  const c = new ActiveHealthChecker(resolveHealthCheck(options), clock, (e, healthy) => verdicts.push([e.id, healthy]), prober);
  return { c, clock, prober, verdicts };
}

describe('ActiveHealthChecker scheduling (virtual time)', () => {
  it('drives every endpoint with one clock timer, and leaves none after stop()', async () => {
    const { c, clock, prober } = checker({ interval: '1s', jitter: '100ms' });
    c.setEndpoints(fleet(200));
    assert.equal(clock.pendingTimers, 1, 'one timer for 200 endpoints');
    for (let i = 0; i < 50; i++) {
      await clock.advance(97);
      assert.ok(clock.pendingTimers <= 1, `at most one timer (${clock.pendingTimers} at ${clock.now()} ms)`);
    }
    assert.ok(prober.probes.length >= 200 * 4, `every endpoint probed repeatedly (${prober.probes.length})`);
    await c.stop();
    assert.equal(clock.pendingTimers, 0);
    assert.equal(prober.closed, 1);
    const count = prober.probes.length;
    await clock.advance(10_000);
    assert.equal(prober.probes.length, count, 'no probe after stop()');
  });

  it('starts each endpoint within the jitter and spaces probes by interval + [0, jitter]', async () => {
    const { c, clock, prober } = checker({ interval: '1s', jitter: '100ms' });
    const endpoints = fleet(20);
    c.setEndpoints(endpoints);
    await clock.advance(20_000);
    const gaps: number[] = [];
    for (const e of endpoints) {
      const times = prober.times(e.id);
      assert.ok(times.length >= 17, `${e.id} probed ${times.length} times`);
      assert.ok((times[0] as number) >= 0 && (times[0] as number) <= 100, `first probe at ${times[0]} ms`);
      for (let i = 1; i < times.length; i++) gaps.push((times[i] as number) - (times[i - 1] as number));
    }
    // The shared TimerQueue fires up to 1.6 % late past 1024 ms (never early).
    for (const gap of gaps) assert.ok(gap >= 1000 && gap <= 1100 * 1.016, `gap ${gap} ms outside [1000, 1100 + 1.6 %]`);
    assert.ok(gaps.some((gap) => gap > 1050) && gaps.some((gap) => gap < 1050), 'waits cover the jitter range');
    assert.ok(new Set(gaps).size > 20, 'the jitter actually varies the waits');
    assert.ok(new Set(endpoints.map((e) => prober.times(e.id)[0])).size > 10, 'first probes are spread out');
    await c.stop();
  });

  it('defaults the jitter to 10 % of the interval', () => {
    assert.equal(resolveHealthCheck({ interval: '5s' }).jitterMs, 500);
    assert.equal(resolveHealthCheck({}).jitterMs, 500);
    assert.equal(resolveHealthCheck({ interval: '2s', jitter: 0 }).jitterMs, 0);
  });

  it('reports unhealthy after unhealthyThreshold failures in a row, healthy after healthyThreshold successes', async () => {
    const { c, clock, prober, verdicts } = checker({ interval: '1s', jitter: 0, unhealthyThreshold: 3, healthyThreshold: 2 });
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    const script: Answer[] = [false, false, true, false, false, false, false, true, false, true, true, true];
    let next = 0;
    prober.answer = (id) => (id === a.id ? (script[next++] ?? true) : true);
    c.setEndpoints([a, b]);
    const verdictAfter: number[] = [];
    for (let probe = 1; probe <= script.length; probe++) {
      await clock.advance(probe === 1 ? 1 : 1000);
      assert.equal(prober.times(a.id).length, probe);
      verdictAfter.push(verdicts.length);
    }
    // false false (true breaks the run) false false false -> down after the 6th probe;
    // false false (4th failure, no new verdict) true false (a failure breaks the success run) true true -> up after the 11th.
    assert.deepEqual(verdicts, [[a.id, false], [a.id, true]]);
    assert.deepEqual(verdictAfter, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2]);
    assert.deepEqual(c.snapshot().find((s) => s.id === a.id)?.healthy, true);
    await c.stop();
  });

  it('fails and cancels a probe that outlives the timeout; never two in flight for one endpoint', async () => {
    const { c, clock, prober, verdicts } = checker({ interval: '100ms', jitter: 0, timeout: '1s', unhealthyThreshold: 2 });
    const [a] = fleet(1) as [Endpoint];
    prober.answer = () => 'hang';
    c.setEndpoints([a]);
    await clock.advance(1);
    assert.equal(prober.probes.length, 1);
    await clock.advance(999);
    assert.equal(prober.probes.length, 1, 'the next probe waits for the one in flight');
    assert.equal(prober.probes[0]?.signal.aborted, false);
    assert.equal(c.snapshot()[0]?.probing, true);
    await clock.advance(1);
    assert.equal(prober.probes[0]?.signal.aborted, true, 'cancelled at the timeout');
    assert.equal(c.snapshot()[0]?.consecutiveFailures, 1);
    await clock.advance(100);
    assert.equal(prober.probes.length, 2, 'next probe one interval after the timeout');
    await clock.advance(1000);
    assert.deepEqual(verdicts, [[a.id, false]]);
    assert.equal(prober.maxInFlightPerEndpoint, 1);
    await clock.advance(150);
    assert.equal(prober.inFlight, 1);
    await c.stop();
    assert.equal(prober.inFlight, 0, 'stop() aborts the probe in flight');
  });

  it('follows set changes: probes new endpoints, forgets departed ones and ignores their late answers', async () => {
    const { c, clock, prober, verdicts } = checker({ interval: '1s', jitter: 0, timeout: '5s', unhealthyThreshold: 1 });
    const [a, b, d] = fleet(3) as [Endpoint, Endpoint, Endpoint];
    prober.answer = (id) => (id === b.id ? 'hang' : true);
    c.setEndpoints([a, b]);
    await clock.advance(1500);
    assert.equal(c.snapshot().find((s) => s.id === b.id)?.probing, true);
    c.setEndpoints([a, d]);
    assert.deepEqual(prober.forgotten, [b.id]);
    assert.equal(prober.probes.find((p) => p.id === b.id)?.signal.aborted, true, 'its probe in flight is cancelled');
    await clock.advance(10_000);
    assert.equal(prober.times(b.id).length, 1, 'no probe after it left');
    assert.ok(prober.times(d.id).length >= 9, 'the new endpoint is probed');
    assert.deepEqual(verdicts, [], 'a departed endpoint gets no verdict');
    assert.deepEqual(c.snapshot().map((s) => s.id).sort(), [a.id, d.id].sort());
    await c.stop();
    c.setEndpoints([a]);
    assert.equal(clock.pendingTimers, 0, 'a stopped checker ignores new sets');
  });
});

describe('health check options', () => {
  it('has the documented defaults', () => {
    assert.deepEqual({ ...resolveHealthCheck({}) }, {
      path: '/health', intervalMs: 5000, timeoutMs: 1000, jitterMs: 500, unhealthyThreshold: 2, healthyThreshold: 1,
      expectedStatuses: [[200, 399]], protocol: 'http', tls: undefined,
    });
    assert.deepEqual(resolveHealthCheck({ expectedStatuses: [200, [204, 206]] }).expectedStatuses, [[200, 200], [204, 206]]);
  });

  it('rejects bad options naming them', () => {
    for (const [options, option] of [
      [null, 'healthCheck'],
      [{ path: 'health' }, 'healthCheck.path'],
      [{ path: '/a b' }, 'healthCheck.path'],
      [{ interval: 0 }, 'healthCheck.interval'],
      [{ timeout: 'soon' }, 'healthCheck.timeout'],
      [{ jitter: -1 }, 'healthCheck.jitter'],
      [{ unhealthyThreshold: 0 }, 'healthCheck.unhealthyThreshold'],
      [{ healthyThreshold: 1.5 }, 'healthCheck.healthyThreshold'],
      [{ expectedStatuses: [] }, 'healthCheck.expectedStatuses'],
      [{ expectedStatuses: [200, [300, 200]] }, 'healthCheck.expectedStatuses[1]'],
      [{ expectedStatuses: [700] }, 'healthCheck.expectedStatuses[0]'],
      [{ protocol: 'ftp' }, 'healthCheck.protocol'],
      [{ tls: 'yes' }, 'healthCheck.tls'],
      // Without protocol 'https' the probe's TLS options were dropped and probes went out in clear text.
      [{ tls: { servername: 'svc.internal', minVersion: 'TLSv1.3' } }, 'healthCheck.tls'],
      [{ protocol: 'http', tls: { rejectUnauthorized: true } }, 'healthCheck.tls'],
    ] as const) {
      assert.throws(() => resolveHealthCheck(options as never), (e: unknown) => {
        const details = (e as { code?: string; details?: { option?: string } });
        return details.code === 'ERR_INVALID_CONFIG' && details.details?.option === option;
      }, `expected an error naming ${option}`);
    }
  });
});

describe('healthCheck tls on the builder', () => {
  it('refuses probe TLS options without protocol https, and keeps them with it', () => {
    const base = () => client('hc-tls').endpoints(['127.0.0.1:1']);
    assert.throws(() => base().healthCheck({ tls: { servername: 'svc.internal' } }), (e: unknown) =>
      isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'healthCheck.tls' && /https/.test(e.message));
    const settings = resolveHealthCheck({ protocol: 'https', tls: { servername: 'svc.internal' } });
    assert.deepEqual([settings.protocol, settings.tls?.['servername']], ['https', 'svc.internal']);
    assert.doesNotThrow(() => base().healthCheck({ protocol: 'https', tls: { servername: 'svc.internal' } }));
  });
});

describe('EndpointHealthFilter.setActiveHealth', () => {
  const statuses = new HttpStatusClassifier();
  const ids = (endpoints: readonly Endpoint[]): string[] => endpoints.map((e) => e.id);

  it('takes a marked-down endpoint out outside the ejection cap, with reason active-health-check', () => {
    let changes = 0;
    const d = new EndpointHealthFilter(resolveOutlierDetection({ maxEjectionPercent: 10, panicThreshold: 0 }), new VirtualClock(), () => changes++);
    const endpoints = fleet(5);
    const [a, b, c] = endpoints as [Endpoint, Endpoint, Endpoint];
    d.setEndpoints(endpoints);
    for (let i = 0; i < 5; i++) d.observe(a, statuses.classify(503)); // the one ejection the 10 % cap allows
    for (let i = 0; i < 5; i++) d.observe(b, statuses.classify(503)); // refused by the cap
    assert.deepEqual(d.snapshot().filter((h) => h.ejected).map((h) => h.id), [a.id]);
    d.setActiveHealth(b, false);
    d.setActiveHealth(c, false);
    assert.deepEqual(ids(d.available), ids(endpoints.slice(3)), 'marked down regardless of the cap');
    const health = d.snapshot().find((h) => h.id === c.id);
    assert.deepEqual([health?.ejected, health?.reason, health?.ejections, health?.ejectedForMs], [true, 'active-health-check', 0, undefined]);
    assert.equal(changes, 3);
    d.setActiveHealth(c, false);
    assert.equal(changes, 3, 'repeating a verdict changes nothing');
    d.setActiveHealth(c, true);
    assert.deepEqual(ids(d.available), [c.id, ...ids(endpoints.slice(3))]);
    d.close();
  });

  it('still honours the panic threshold', () => {
    const d = new EndpointHealthFilter(resolveOutlierDetection({ panicThreshold: 50 }), new VirtualClock(), () => {});
    const endpoints = fleet(4);
    d.setEndpoints(endpoints);
    d.setActiveHealth(endpoints[0] as Endpoint, false);
    d.setActiveHealth(endpoints[1] as Endpoint, false);
    assert.equal(d.available.length, 2, '50 % healthy is not below the threshold');
    d.setActiveHealth(endpoints[2] as Endpoint, false);
    assert.deepEqual(ids(d.available), ids(endpoints), '25 % healthy: panic, every endpoint');
    d.close();
  });

  it('ramps an endpoint marked up again with slow start', async () => {
    const clock = new VirtualClock();
    const d = new EndpointHealthFilter(resolveOutlierDetection({ panicThreshold: 0, slowStart: { window: '10s' } }), clock, () => {});
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    d.setEndpoints([a, b]);
    d.setActiveHealth(a, false);
    assert.deepEqual(ids(d.available), [b.id]);
    await clock.advance(3000);
    d.setActiveHealth(a, true);
    assert.ok(Math.abs((d.available.find((e) => e.id === a.id)?.weight ?? 0) - 0.1) < 1e-9, 'returns at the minimum weight');
    await clock.advance(11_000);
    assert.equal(d.available.find((e) => e.id === a.id), a, 'full weight after the window');
    d.close();
  });
});
