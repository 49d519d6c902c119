import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { client, roundRobin, subscribe, toEndpoint, type Resolver, type ResolverListener } from '../../src/index.js';
import { clientSocketsTo, settledResources } from '../helpers/resources.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

/** Health of each upstream's /health, answered by the test; every other path answers 200 `ok <port>`. */
interface Served {
  readonly upstream: Upstream;
  healthStatus: number;
  /** Hang /health without answering (a stuck instance). */
  hang: boolean;
  /** /health answers given, by status. */
  readonly answered: number[];
  readonly hung: http.ServerResponse[];
  /** Hung probes whose connection the prober has not yet closed, and the most seen at once. */
  hangingNow: number;
  mostHangingAtOnce: number;
}

function serve(upstream: Upstream): Served {
  const served: Served = { upstream, healthStatus: 200, hang: false, answered: [], hung: [], hangingNow: 0, mostHangingAtOnce: 0 };
  upstream.handler = (req, res) => {
    if (req.url === '/health') {
      if (served.hang) {
        served.hung.push(res);
        served.hangingNow += 1;
        served.mostHangingAtOnce = Math.max(served.mostHangingAtOnce, served.hangingNow);
        res.once('close', () => { served.hangingNow -= 1; });
        return;
      }
      served.answered.push(served.healthStatus);
      res.writeHead(served.healthStatus, { 'content-type': 'text/plain' });
      res.end(served.healthStatus === 200 ? 'up' : 'down');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`ok ${upstream.port}`);
  };
  return served;
}

const dataRequests = (u: Upstream): number => u.requests.filter((r) => r.url !== '/health').length;
const healthRequests = (u: Upstream): number => u.requests.filter((r) => r.url === '/health').length;

async function waitFor(what: string, condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A resolver whose set the test replaces. */
function pushable(addresses: string[]): { resolver: Resolver; push(addresses: string[]): void } {
  let listener: ResolverListener | undefined;
  let current = addresses;
  const update = (): void => listener?.onUpdate({ endpoints: current.map((a) => toEndpoint(a, 'test')), source: 'test' });
  return {
    resolver: {
      source: 'test',
      subscribe(l) {
        listener = l;
        update();
        return () => {
          listener = undefined;
        };
      },
    },
    push(next) {
      current = next;
      update();
    },
  };
}

describe('active health checks in a client (real HTTP servers)', () => {
  let ups: Upstream[] = [];
  let served: Served[] = [];
  before(async () => {
    ups = await startUpstreams([{}, {}, {}, {}]);
    served = ups.map(serve);
  });
  after(async () => {
    for (const s of served) for (const res of s.hung) res.destroy();
    await Promise.all(ups.map((u) => u.close()));
  });
  const reset = (): void => {
    for (const s of served) {
      s.healthStatus = 200;
      s.hang = false;
      s.answered.length = 0;
    }
  };

  it('takes an endpoint whose /health answers 503 out of rotation after unhealthyThreshold probes, and brings it back', async () => {
    reset();
    const sick = served[3] as Served;
    let attempts = 0;
    const unsubscribe = subscribe('attemptStart', (m) => { if (m.call.service === 'checked') attempts++; });
    await using c = client('checked').endpoints(ups.map((u) => u.address)).balancer(roundRobin()).retry(false)
      .healthCheck({ interval: '30ms', jitter: '10ms', timeout: '500ms', unhealthyThreshold: 2, healthyThreshold: 2 })
      .build();
    await waitFor('a first probe of every endpoint', () => served.every((s) => s.answered.length >= 1));
    assert.equal(c.endpoints().available.length, 4);

    sick.healthStatus = 503;
    const failedBefore = (): number => sick.answered.filter((s) => s === 503).length;
    await waitFor('the sick endpoint to leave rotation', () => c.endpoints().available.length === 3);
    const failures = failedBefore();
    assert.ok(failures >= 2 && failures <= 3, `left after 2 failed probes (saw ${failures} by the time it was noticed)`);
    const health = c.endpoints().health.find((h) => h.id === sick.upstream.address);
    assert.deepEqual([health?.ejected, health?.reason, health?.consecutiveGatewayFailures], [true, 'active-health-check', 0]);

    const before = dataRequests(sick.upstream);
    for (let i = 0; i < 30; i++) {
      const res = await c.request({ path: '/data' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
    assert.equal(dataRequests(sick.upstream), before, 'no request lands on it while it is down');

    sick.healthStatus = 200;
    await waitFor('the endpoint to return', () => c.endpoints().available.length === 4);
    assert.ok(sick.answered.slice(-2).every((s) => s === 200), 'after healthyThreshold good probes');
    for (let i = 0; i < 8; i++) await (await c.request({ path: '/data' })).body.dump();
    assert.ok(dataRequests(sick.upstream) > before, 'requests reach it again');

    // Probes are not calls: the only attempts the data path saw are the 38 requests above.
    unsubscribe();
    assert.equal(attempts, 38);
    assert.equal(c.activeCalls, 0);
    assert.ok(sick.upstream.requests.filter((r) => r.url === '/health').every((r) => r.headers['user-agent'] === 'meshkit-health-check'));
  });

  it('fails a probe that hangs past the timeout', async () => {
    reset();
    const stuck = served[1] as Served;
    stuck.hang = true;
    await using c = client('stuck').endpoints(ups.map((u) => u.address)).retry(false)
      .healthCheck({ interval: '20ms', jitter: 0, timeout: '60ms', unhealthyThreshold: 2 })
      .build();
    const started = Date.now();
    await waitFor('the stuck endpoint to leave rotation', () => c.endpoints().available.length === 3);
    assert.ok(Date.now() - started >= 2 * 60, 'two probe timeouts');
    assert.equal(c.endpoints().health.find((h) => h.id === stuck.upstream.address)?.reason, 'active-health-check');
    // Counted at the server, by open connections: a busy machine may let more probes run in
    // sequence before the poll above sees the ejection, but never two at once.
    assert.equal(stuck.mostHangingAtOnce, 1, `at most one probe in flight at a time (${stuck.hung.length} hung probes in all)`);
    stuck.hang = false;
  });

  it('does not eject on data-path failures unless outlier detection was asked for', async () => {
    reset();
    const up = ups[0] as Upstream;
    const saved = up.handler;
    up.handler = (req, res) => {
      if (req.url === '/health') return saved?.(req, res, '');
      res.writeHead(503);
      res.end();
    };
    try {
      await using c = client('passive-off').endpoints(ups.map((u) => u.address)).balancer(roundRobin()).retry(false)
        .healthCheck({ interval: '1s' }).build();
      for (let i = 0; i < 40; i++) await (await c.request({ path: '/data' })).body.dump();
      assert.equal(c.endpoints().available.length, 4, 'passive rules are off in the filter made for health checks');
      assert.equal(c.endpoints().health.length, 4, 'health is still shown');

      await using both = client('passive-on').endpoints(ups.map((u) => u.address)).balancer(roundRobin()).retry(false)
        .outlierDetection({ maxEjectionPercent: 25 }).healthCheck({ interval: '1s' }).build();
      for (let i = 0; i < 40; i++) await (await both.request({ path: '/data' })).body.dump();
      assert.equal(both.endpoints().health.find((h) => h.id === up.address)?.reason, 'consecutive-gateway-failures');
    } finally {
      up.handler = saved;
    }
  });

  it('follows discovery: probes new endpoints and stops probing (and disconnects from) departed ones', async () => {
    reset();
    const [a, b, c3] = ups as [Upstream, Upstream, Upstream];
    const discovery = pushable([a.address, b.address]);
    await using c = client('following').discovery(discovery.resolver).retry(false)
      .healthCheck({ interval: '20ms', jitter: '5ms' }).build();
    await waitFor('probes of a and b', () => healthRequests(a) > 0 && healthRequests(b) > 0);
    const thirdBefore = healthRequests(c3);
    discovery.push([a.address, c3.address]);
    await waitFor('probes of the new endpoint', () => healthRequests(c3) > thirdBefore + 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const bAfter = healthRequests(b);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(healthRequests(b), bAfter, 'no probe of a departed endpoint');
    await waitFor('its probe connection to close', () => clientSocketsTo(new Set([b.port])).length === 0, 2000);
  });
});

describe('Client.close() with active health checks', () => {
  it('leaves no timers or sockets behind, even with a probe in flight', async () => {
    const before = await settledResources();
    const ups = await startUpstreams([{}, {}, {}]);
    const served = ups.map(serve);
    (served[2] as Served).hang = true;
    const c = client('closing').endpoints(ups.map((u) => u.address))
      .healthCheck({ interval: '10ms', jitter: '5ms', timeout: '5s' }).build();
    await waitFor('probes', () => (served[0] as Served).answered.length >= 3 && (served[2] as Served).hung.length >= 1);
    await (await c.request({ path: '/' })).body.dump();
    await c.close();
    const ports = new Set(ups.map((u) => u.port));
    assert.deepEqual(clientSocketsTo(ports), [], 'no probe or pool socket survives close()');
    const probes = ups.map(healthRequests);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(ups.map(healthRequests), probes, 'no probe after close()');
    for (const res of (served[2] as Served).hung) res.destroy();
    await Promise.all(ups.map((u) => u.close()));
    assert.deepEqual(await settledResources(before), before);
  });
});
