/**
 * A whole client stack in virtual time with the global clocks and timers
 * replaced by functions that throw: discovery, peak EWMA, per-try and total
 * timeouts, retries with a budget and backoff, hedging, Retry-After, outlier
 * detection, service and endpoint breakers, adaptive concurrency, a bulkhead,
 * a rate limit, an inbound deadline, snapshots and close(). Every time read
 * and timer must go through the injected clock (the SimLoop's): a stub that
 * is hit records where, since a caught throw could otherwise hide it.
 */
// First: the loop captures the real setImmediate when it loads.
import { SIM_EPOCH_MS, SimLoop } from '../../src/sim/event-loop.js';
import assert from 'node:assert/strict';
import { performance as perfHooksPerformance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import {
  adaptiveConcurrency, bulkhead, client, isMeshkitError, peakEwma, rateLimit, roundRobin, runWithInbound,
  type CallObserverFactory, type Client, type HttpResponse, type HttpTransportFactory, type Resolver, type ResolverListener,
} from '../../src/index.js';
import { toEndpoint, type Endpoint } from '../../src/core/endpoint.js';
import { renderReportHtml } from '../../src/sim/report-html.js';
import { formatTable, reportJson } from '../../src/sim/report.js';
import { runScenario } from '../../src/sim/run-scenario.js';
import { scenarios } from '../../src/sim/scenarios/index.js';

/** What a simulated backend answers to one attempt. */
interface Reply {
  readonly latencyMs: number;
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A connection error code (`ECONNREFUSED`) instead of a response. */
  readonly error?: string;
}

/** A backend: its reply to an attempt on `path` at virtual time `now`. */
type Backend = (now: number, path: string) => Reply;

/**
 * The simulated network, in one place (the simulator's own transport
 * replaces it): each attempt is answered by its endpoint's backend after the
 * reply's latency, on SimLoop timers; an aborted attempt (per-try timeout,
 * hedge lost, deadline) cancels its timer and rejects with the abort reason.
 */
function simulatedHttp(loop: SimLoop, backends: ReadonlyMap<string, Backend>, sent: Map<string, number>): HttpTransportFactory {
  const response = (reply: Reply): HttpResponse => ({
    statusCode: reply.status ?? 200,
    headers: reply.headers ?? {},
    body: { dump: async () => undefined, text: async () => '' },
    trailers: {},
    opaque: null,
    context: {},
  }) as unknown as HttpResponse;
  return {
    name: 'simulated',
    create: () => ({
      name: 'simulated',
      send(endpoint, request, attempt) {
        sent.set(endpoint.id, (sent.get(endpoint.id) ?? 0) + 1);
        const backend = backends.get(endpoint.id);
        if (backend === undefined) throw new Error(`no backend at ${endpoint.id}`);
        const reply = backend(loop.now(), request.path);
        return new Promise<HttpResponse>((resolve, reject) => {
          const signal = attempt.signal;
          const onAbort = (): void => {
            loop.cancel(timer);
            reject(signal.reason);
          };
          const timer = loop.after(reply.latencyMs, () => {
            signal.removeEventListener('abort', onAbort);
            if (reply.error === undefined) resolve(response(reply));
            else reject(Object.assign(new Error(`${reply.error} ${endpoint.id}`), { code: reply.error }));
          });
          signal.addEventListener('abort', onAbort, { once: true });
        });
      },
      discard: () => undefined,
      close: async () => undefined,
      destroy: async () => undefined,
    }),
  };
}

/** A resolver whose set the test changes on loop timers. */
class SimulatedResolver implements Resolver {
  readonly source = 'simulated';
  readonly #listeners = new Set<ResolverListener>();
  #endpoints: readonly Endpoint[] = [];

  set(addresses: readonly string[]): void {
    this.#endpoints = addresses.map((address) => toEndpoint(address, 'endpoints'));
    for (const listener of this.#listeners) listener.onUpdate({ endpoints: this.#endpoints, source: this.source });
  }

  subscribe(listener: ResolverListener): () => void {
    this.#listeners.add(listener);
    listener.onUpdate({ endpoints: this.#endpoints, source: this.source });
    return () => this.#listeners.delete(listener);
  }
}

/** The globals no meshkit code may reach here; each stub records the call and throws. */
const hits: string[] = [];
const restores: (() => void)[] = [];

function replaceWithThrowing(target: object, key: string, name: string): void {
  const original = Object.getOwnPropertyDescriptor(target, key);
  Object.defineProperty(target, key, {
    configurable: true,
    writable: true,
    value: function throwing(): never {
      hits.push(`${name}\n${new Error('stack').stack ?? ''}`);
      throw new Error(`clock purity: ${name} was called`);
    },
  });
  restores.push(() => {
    if (original === undefined) delete (target as Record<string, unknown>)[key];
    else Object.defineProperty(target, key, original);
  });
}

const SECOND = 1000;
const RUN_MS = 180 * SECOND;

describe('clock purity: a whole client stack under the simulator, with the global clocks and timers throwing', () => {
  before(() => {
    for (const name of ['setTimeout', 'setInterval', 'setImmediate'] as const) replaceWithThrowing(globalThis, name, name);
    replaceWithThrowing(Date, 'now', 'Date.now');
    replaceWithThrowing(globalThis.performance, 'now', 'performance.now');
    // systemClock reads perf_hooks' object (the same one as the global, but say so rather than assume it).
    if (perfHooksPerformance !== globalThis.performance) replaceWithThrowing(perfHooksPerformance, 'now', 'perf_hooks performance.now');
  });

  after(() => {
    for (const restore of restores.reverse()) restore();
  });

  it('runs three simulated minutes of calls, and no global clock or timer is ever reached', async () => {
    // The stubs are in place and record even a call whose throw is caught.
    assert.throws(() => Date.now(), /clock purity/);
    assert.throws(() => performance.now(), /clock purity/);
    assert.throws(() => setTimeout(() => undefined, 1), /clock purity/);
    assert.equal(hits.length, 3);
    hits.length = 0;

    const loop = new SimLoop({ seed: 12 });
    const clock = loop.clock;
    const jitter = loop.random('backend-latency');
    // 3 % of answers take 400 ms (hedged at 50 ms); /slow always does (past the 250 ms per-try timeout).
    const healthy: Backend = (_now, path) => ({ latencyMs: path === '/slow' || jitter() < 0.03 ? 400 : 5 + 15 * jitter() });
    const backends = new Map<string, Backend>([
      ['127.0.0.1:8001', healthy],
      ['127.0.0.1:8002', healthy],
      ['127.0.0.1:8003', healthy],
      // Fails from 20 s to 50 s (503s, then refused connections): outlier detection must eject it, then let it back.
      ['127.0.0.1:8004', (now, path) => (now < 20 * SECOND || now >= 50 * SECOND ? healthy(now, path)
        : now < 40 * SECOND ? { latencyMs: 2, status: 503 } : { latencyMs: 1, error: 'ECONNREFUSED' })],
      ['127.0.0.1:8005', healthy],
      // Endpoint breakers: 9002 answers 500 from 10 s to 40 s.
      ['127.0.0.2:9001', healthy],
      ['127.0.0.2:9002', (now) => (now >= 10 * SECOND && now < 40 * SECOND ? { latencyMs: 3, status: 500 } : healthy(now, ''))],
      // The service breaker: every answer a 500 from 30 s to 60 s.
      ['127.0.0.3:7001', (now) => (now >= 30 * SECOND && now < 60 * SECOND ? { latencyMs: 3, status: 500 } : { latencyMs: 5 })],
      // Retry-After and the inbound deadline.
      ['127.0.0.4:6001', (now, path) => quotes(now, path)],
    ]);
    // /delta and /date answer 429 with Retry-After on odd attempts; /slow takes 500 ms.
    let quoteAttempts = 0;
    const quoteStarts: number[] = [];
    const askedWaits: number[] = [];
    const quotes = (now: number, path: string): Reply => {
      if (path === '/slow') return { latencyMs: 500 };
      if (path === '/fast') return { latencyMs: 5 };
      quoteStarts.push(now);
      if (quoteAttempts++ % 2 === 1) return { latencyMs: 5 };
      const retryAfter = path === '/delta' ? '2' : new Date(clock.wallNow() + 3500).toUTCString();
      // What the client should wait once the answer arrives 5 ms from now (a date has whole seconds).
      askedWaits.push(path === '/delta' ? 2000 : Date.parse(retryAfter) - (clock.wallNow() + 5));
      return { latencyMs: 5, status: 429, headers: { 'retry-after': retryAfter } };
    };
    const sent = new Map<string, number>();
    const transport = simulatedHttp(loop, backends, sent);

    const ordersResolver = new SimulatedResolver();
    ordersResolver.set(['127.0.0.1:8001', '127.0.0.1:8002', '127.0.0.1:8003', '127.0.0.1:8004']);
    loop.at(60 * SECOND, () => ordersResolver.set(['127.0.0.1:8001', '127.0.0.1:8002', '127.0.0.1:8003', '127.0.0.1:8004', '127.0.0.1:8005']));
    loop.at(120 * SECOND, () => ordersResolver.set(['127.0.0.1:8001', '127.0.0.1:8003', '127.0.0.1:8004', '127.0.0.1:8005']));

    let hedges = 0;
    const hedgeCounter: CallObserverFactory = { name: 'hedges', create: () => ({ hedgeStart: () => { hedges++; } }) };
    const orders = client('orders').discovery(ordersResolver).transport(transport).clock(clock)
      .balancer(peakEwma())
      .timeout({ perTry: '250ms', total: '2s' })
      .retry({ attempts: 3, backoff: { base: '10ms', cap: '100ms' }, budget: { ratio: 0.2, minPerSecond: 5 } })
      .hedge({ after: '50ms', max: 1, budget: 0.1 })
      .outlierDetection({ consecutiveGatewayFailures: 5, interval: '1s', baseEjectionTime: '5s', maxEjectionPercent: 50 })
      .policy(rateLimit({ rate: 200, per: '1s', clock }))
      .policy(bulkhead({ maxConcurrent: 64, maxQueue: 16, clock }))
      .policy(adaptiveConcurrency({ clock }))
      .telemetry(hedgeCounter)
      .build();
    // Round robin: peak EWMA would starve the failing instance before its breaker saw enough attempts.
    const inventory = client('inventory').endpoints(['127.0.0.2:9001', '127.0.0.2:9002']).transport(transport).clock(clock)
      .balancer(roundRobin()).retry(false)
      .endpointCircuitBreakers({ errorThreshold: 0.5, volumeThreshold: 10, window: '5s', resetTimeout: '5s' })
      .build();
    const payments = client('payments').endpoints(['127.0.0.3:7001']).transport(transport).clock(clock)
      .retry(false)
      .circuitBreaker({ errorThreshold: 0.5, volumeThreshold: 10, window: '5s', resetTimeout: '5s' })
      .build();
    const quotesClient = client('quotes').endpoints(['127.0.0.4:6001']).transport(transport).clock(clock)
      .timeout({ total: '10s' })
      .retry({ attempts: 2, statuses: [429], maxRetryAfter: '5s' })
      .build();
    const clients: Client[] = [orders, inventory, payments, quotesClient];

    const ejections: { at: number; id: string; ejected: boolean }[] = [];
    orders.onEjection((event) => ejections.push({ at: loop.now(), id: event.endpoint.id, ejected: event.ejected }));
    const breakerStates: { at: number; state: string }[] = [];
    payments.onBreakerState((event) => breakerStates.push({ at: loop.now(), state: event.state }));
    let retries = 0;
    orders.onRetry(() => { retries++; });

    // Load: orders at 50 calls/s, inventory and payments at 20/s each, until RUN_MS.
    const results = new Map<string, Map<string, number>>();
    const count = (service: string, result: string): void => {
      const byResult = results.get(service) ?? new Map<string, number>();
      byResult.set(result, (byResult.get(result) ?? 0) + 1);
      results.set(service, byResult);
    };
    const settled: Promise<unknown>[] = [];
    const send = (c: Client, path: string): void => {
      settled.push(c.request({ path }).then(
        (response) => count(c.name, String(response.statusCode)),
        (error: unknown) => count(c.name, isMeshkitError(error) ? error.code : String(error)),
      ));
    };
    const every = (ms: number, fn: () => void): void => {
      const tick = (): void => {
        fn();
        if (loop.now() + ms < RUN_MS) loop.after(ms, tick);
      };
      loop.after(ms, tick);
    };
    every(20, () => send(orders, '/orders'));
    // Timeouts: /slow outlives every per-try timeout (and the retries), and a call's own 120 ms deadline.
    const slow: { code: string; ms: number; own: boolean }[] = [];
    const sendSlow = (timeout: string | undefined): void => {
      const startedAt = loop.now();
      settled.push(orders.request({ path: '/slow', ...(timeout === undefined ? {} : { timeout }) }).then(
        (response) => slow.push({ code: String(response.statusCode), ms: loop.now() - startedAt, own: timeout !== undefined }),
        (error: unknown) => slow.push({ code: isMeshkitError(error) ? error.code : String(error), ms: loop.now() - startedAt, own: timeout !== undefined }),
      ));
    };
    every(SECOND, () => sendSlow(undefined));
    every(SECOND, () => sendSlow('120ms'));
    every(50, () => send(inventory, '/stock'));
    every(50, () => send(payments, '/pay'));
    // The endpoint breakers' states, as the snapshot shows them, once a second.
    const circuit: { at: number; state: string | undefined }[] = [];
    every(SECOND, () => {
      const state = inventory.snapshot().endpoints.find((e) => e.id === '127.0.0.2:9002')?.circuit;
      if (circuit.at(-1)?.state !== state) circuit.push({ at: loop.now(), state });
    });

    // A burst of 300 calls at once at 170.5 s (between two /slow calls): the limiters must refuse the excess.
    const burst = new Map<string, number>();
    loop.at(170.5 * SECOND, () => {
      for (let i = 0; i < 300; i++) {
        settled.push(orders.request({ path: '/orders' }).then(
          (response) => burst.set(String(response.statusCode), (burst.get(String(response.statusCode)) ?? 0) + 1),
          (error: unknown) => {
            const code = isMeshkitError(error) ? `${error.code} ${String(error.details['reason'])}` : String(error);
            burst.set(code, (burst.get(code) ?? 0) + 1);
          },
        ));
      }
    });

    // Retry-After (delta-seconds, then an HTTP date) and the inbound deadline, at 150 s.
    const checks: Promise<unknown>[] = [];
    let delta: { status: number; at: number } | undefined;
    let date: { status: number; at: number } | undefined;
    let inboundFailure: { code: string; blame: string; at: number } | undefined;
    let inboundSuccess: number | undefined;
    loop.at(150 * SECOND, () => {
      checks.push((async () => {
        const response = await quotesClient.request({ path: '/delta' });
        delta = { status: response.statusCode, at: loop.now() };
        const dated = await quotesClient.request({ path: '/date' });
        date = { status: dated.statusCode, at: loop.now() };
      })());
      const startedAt = loop.now();
      checks.push(runWithInbound({ deadline: startedAt + 100, clock }, () => quotesClient.request({ path: '/slow' })).then(
        () => assert.fail('a 500 ms answer within a 100 ms inbound deadline'),
        (error: unknown) => {
          assert.ok(isMeshkitError(error), String(error));
          inboundFailure = { code: error.code, blame: error.blame, at: loop.now() - startedAt };
        },
      ));
      checks.push(runWithInbound({ deadline: startedAt + 1000, clock }, () => quotesClient.request({ path: '/fast' }))
        .then((response) => { inboundSuccess = response.statusCode; }));
    });

    // Snapshots along the way: the breaker's and endpoints' states, and the time stamp on the simulation's wall clock.
    const snapshotTimes: string[] = [];
    every(10 * SECOND, () => {
      for (const c of clients) {
        const snapshot = c.snapshot();
        assert.equal(snapshot.takenAt, new Date(SIM_EPOCH_MS + loop.now()).toISOString());
        snapshotTimes.push(snapshot.takenAt);
      }
    });

    await loop.run(RUN_MS + 5 * SECOND);
    await Promise.all(checks);
    await Promise.all(settled);

    // Every call settled, and the orders service stayed healthy through the sick instance and the set changes.
    const ordersResults = results.get('orders')!;
    const ordersCalls = [...ordersResults.values()].reduce((a, b) => a + b, 0);
    assert.ok(ordersCalls >= 8900, `orders calls: ${ordersCalls}`);
    assert.ok((ordersResults.get('200') ?? 0) / ordersCalls > 0.99, `orders: ${JSON.stringify([...ordersResults])}`);
    // Per-try timeouts ended every /slow call within the total bound; a call's own deadline ended it at 120 ms.
    const slowPerTry = slow.filter((s) => !s.own);
    assert.equal(slowPerTry.length, 179);
    assert.deepEqual(slowPerTry.filter((s) => s.code !== 'ERR_TIMEOUT' || s.ms < 250 || s.ms > 2000), []);
    const slowOwn = slow.filter((s) => s.own);
    // (The shared timer queue may ring a fraction of a millisecond late, when it wakes for a neighbouring entry.)
    assert.deepEqual(slowOwn.filter((s) => s.code !== 'ERR_DEADLINE_EXCEEDED' || s.ms < 120 || s.ms > 125), []);
    assert.equal(slowOwn.length, 179);
    // The burst: each limiter, outermost first, refused its share at once, and the rest were served.
    const byReason = (key: string): number => burst.get(key) ?? 0;
    const refusedBy = ['rate-limit', 'bulkhead', 'adaptive-concurrency'].map((reason) => byReason(`ERR_LIMIT_EXCEEDED ${reason}`));
    assert.ok(refusedBy[0]! >= 50 && refusedBy[1]! >= 50 && refusedBy[2]! >= 1 && byReason('200') >= 10, JSON.stringify([...burst]));
    assert.equal(refusedBy[0]! + refusedBy[1]! + refusedBy[2]! + byReason('200'), 300, JSON.stringify([...burst]));
    assert.deepEqual(orders.snapshot().policies.map((p) => p.name), ['rate-limit', 'bulkhead', 'adaptive-concurrency']);
    // Retries and hedges happened, within their budgets.
    assert.ok(retries > 10, `retries: ${retries}`);
    assert.ok(hedges > 10, `hedges: ${hedges}`);
    const ordersAttempts = ['8001', '8002', '8003', '8004', '8005'].reduce((sum, port) => sum + (sent.get(`127.0.0.1:${port}`) ?? 0), 0);
    assert.ok(ordersAttempts < ordersCalls * 1.35, `attempts ${ordersAttempts} for ${ordersCalls} calls`);
    // Discovery: 8005 joined at 60 s and got traffic; 8002 left at 120 s.
    assert.ok((sent.get('127.0.0.1:8005') ?? 0) > 500, `8005 got ${sent.get('127.0.0.1:8005')}`);
    // Outlier detection ejected 8004 while it failed and let it back afterwards.
    const sick = ejections.filter((e) => e.id === '127.0.0.1:8004');
    assert.ok(sick.some((e) => e.ejected && e.at >= 20 * SECOND && e.at < 50 * SECOND), JSON.stringify(sick));
    assert.equal(sick.at(-1)?.ejected, false, JSON.stringify(sick));
    // The endpoint breaker of 9002 opened while it failed, and it was back at the end.
    assert.ok(circuit.some((e) => e.state === 'open' && e.at > 10 * SECOND && e.at <= 40 * SECOND), JSON.stringify(circuit));
    assert.equal(circuit.at(-1)?.state, 'closed', JSON.stringify(circuit));
    assert.ok(circuit.at(-1)!.at > 40 * SECOND, JSON.stringify(circuit));
    // The service breaker opened, half-opened after its reset timeout on the virtual clock, and closed again.
    const opened = breakerStates.find((s) => s.state === 'open');
    assert.ok(opened !== undefined && opened.at >= 30 * SECOND && opened.at < 35 * SECOND, JSON.stringify(breakerStates));
    const halfOpen = breakerStates.find((s) => s.state === 'half-open');
    assert.equal(halfOpen?.at, opened.at + 5 * SECOND, JSON.stringify(breakerStates));
    assert.equal(breakerStates.at(-1)?.state, 'closed');
    assert.ok(breakerStates.at(-1)!.at >= 60 * SECOND, JSON.stringify(breakerStates));
    assert.ok((results.get('payments')!.get('ERR_CIRCUIT_OPEN') ?? 0) > 100, JSON.stringify([...results.get('payments')!]));
    // Retry-After: 2 s asked as delta-seconds, about 3 s as an HTTP date on the simulation's wall clock, both waited in virtual time.
    assert.equal(delta?.status, 200);
    assert.equal(date?.status, 200);
    assert.equal(quoteStarts.length, 4);
    const [deltaFirst, deltaRetry, dateFirst, dateRetry] = quoteStarts as [number, number, number, number];
    const [deltaAsked, dateAsked] = askedWaits as [number, number];
    assert.ok(dateAsked > 2500 && dateAsked <= 3500, `the date asked for ${dateAsked} ms`);
    // Each retry starts once the 5 ms answer came and the asked wait passed (a longer backoff would win, but its cap is 250 ms).
    assert.ok(deltaRetry - deltaFirst >= 5 + deltaAsked && deltaRetry - deltaFirst < 5 + deltaAsked + 50, `delta retry after ${deltaRetry - deltaFirst} ms`);
    assert.ok(dateRetry - dateFirst >= 5 + dateAsked && dateRetry - dateFirst < 5 + dateAsked + 50, `date retry after ${dateRetry - dateFirst} ms`);
    // The inbound deadline, on the simulation's clock, cut the slow call at 100 ms (the caller's doing); a roomy one let a call through.
    assert.deepEqual(inboundFailure, { code: 'ERR_DEADLINE_EXCEEDED', blame: 'caller', at: 100 });
    assert.equal(inboundSuccess, 200);
    assert.equal(snapshotTimes.length, 4 * 17);

    // close() drains on the virtual clock and leaves no timer behind.
    const closing = Promise.all(clients.map((c) => c.close()));
    await loop.run(loop.now() + 60 * SECOND);
    await closing;
    assert.equal(loop.pending, 0, 'every timer released after close()');
    assert.ok(clients.every((c) => c.snapshot().closed));

    assert.deepEqual(hits, [], 'a global clock or timer was reached');
  });

  // The simulator's own parts run under the same stubs: its backends (capacity, failures, stalls, mid-tier
  // handlers), their transport and discovery, the load generators, the recorder and the report.
  for (const [name, scale] of [['retry-storm', 0.1], ['linkerd-2017', 0.1], ['tail-at-scale', 0.02]] as const) {
    it(`the simulator's backends, transport, discovery, load and report reach no global clock either: ${name}`, async () => {
      hits.length = 0;
      const run = await runScenario(scenarios[name], { scale });
      for (const variant of run.variants) {
        assert.ok(variant.report.clients.some((c) => c.userRequests > 0), `${name}/${variant.name}: no requests`);
        assert.ok(formatTable(variant.report).length > 0);
        assert.ok(reportJson(variant.report).length > 0);
        assert.ok(renderReportHtml(variant.report).includes('<svg'));
      }
      assert.deepEqual(hits, [], 'a global clock or timer was reached');
    });
  }
});
