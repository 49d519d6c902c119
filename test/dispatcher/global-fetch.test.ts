// Global fetch governed with no change at the call site: setGlobalDispatcher(meshkitDispatcher(...)),
// then plain fetch('http://orders/...') against real upstreams on 127.0.0.1.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { client, DEADLINE_HEADER, isMeshkitError, roundRobin, type Client } from '../../src/index.js';
import { meshkitDispatcher, type MeshkitDispatcher } from '../../src/dispatcher/index.js';
import { openTelemetry } from '../../src/otel/index.js';
import { startSdk, type Sdk } from '../otel/support.js';
import { endpointRecord, stallBody, streamBody, streamedText } from '../helpers/body-upstream.js';
import { closedPort, startUpstreams, type Upstream } from '../helpers/upstream.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';

describe('global fetch through meshkitDispatcher', () => {
  let upstreams: Upstream[];
  let outside: Upstream;
  let orders: Client;
  let ejecting: Client;
  let traced: Client;
  let timed: Client;
  let sdk: Sdk;
  let dispatcher: MeshkitDispatcher;
  let previous: Dispatcher;
  const unhandled = trackUnhandledRejections();

  before(async () => {
    [outside, ...upstreams] = await startUpstreams([{}, {}, {}, {}]) as [Upstream, ...Upstream[]];
    sdk = startSdk();
    orders = client('orders').endpoints(upstreams.slice(0, 2).map((u) => u.address)).balancer(roundRobin())
      .timeout({ total: '3s' }).retry({ attempts: 2, budget: false }).build();
    ejecting = client('ejecting').endpoints(upstreams.map((u) => u.address)).balancer(roundRobin())
      .outlierDetection({ maxEjectionPercent: 34 }).retry({ attempts: 2, budget: false }).build();
    traced = client('traced').endpoints([upstreams[2]?.address as string]).outlierDetection({})
      .telemetry(openTelemetry({ tracerProvider: sdk.tracerProvider, propagator: sdk.propagator })).build();
    timed = client('timed').endpoints([upstreams[0]?.address as string]).timeout({ total: '300ms' }).build();
    previous = getGlobalDispatcher();
    dispatcher = meshkitDispatcher({
      routes: [
        { origin: 'http://orders', client: orders },
        { origin: 'http://ejecting.internal:8080', client: ejecting },
        { origin: (origin) => origin.startsWith('http://traced.'), client: traced },
        { origin: 'HTTP://Timed:80/', client: timed },
      ],
    });
    setGlobalDispatcher(dispatcher);
  });
  after(async () => {
    setGlobalDispatcher(previous);
    await dispatcher.close();
    await Promise.all([orders.close(), ejecting.close(), traced.close(), timed.close()]);
    await sdk.shutdown();
    await Promise.all([outside, ...upstreams].map((u) => u.close()));
    await new Promise((resolve) => setTimeout(resolve, 20));
    unhandled.stop();
    assert.deepEqual(unhandled.reasons, [], 'no unhandled rejections');
  });
  afterEach(() => {
    for (const upstream of [outside, ...upstreams]) {
      upstream.requests.length = 0;
      upstream.behaviour = {};
      upstream.handler = undefined;
    }
  });

  it('sends fetch to a routed origin through the client, with the deadline header', async () => {
    const response = await fetch('http://orders/v1/x?page=2', { headers: { 'x-caller': 'yes' } });
    assert.equal(response.status, 200);
    const text = await response.text();
    const seen = upstreams.slice(0, 2).flatMap((u) => u.requests);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.url, '/v1/x?page=2');
    assert.equal(seen[0]?.headers['x-caller'], 'yes');
    const deadline = Number(seen[0]?.headers[DEADLINE_HEADER]);
    assert.ok(deadline > 0 && deadline <= 3000, `deadline header ${deadline}`);
    assert.match(text, /^ok \d+$/);
    assert.equal(dispatcher.inFlight, 0);
  });

  it('retries a 503 on the other instance, invisibly to fetch', async () => {
    (upstreams[0] as Upstream).behaviour = { status: 503, body: 'down' };
    for (let i = 0; i < 4; i++) {
      const response = await fetch('http://orders/v1/retry');
      assert.equal(response.status, 200);
      assert.equal(await response.text(), `ok ${(upstreams[1] as Upstream).port}`);
    }
    // Each call that started on the failing instance was retried on the other one.
    assert.ok((upstreams[0] as Upstream).requests.length >= 1, 'some calls went to the failing instance first');
    assert.equal((upstreams[1] as Upstream).requests.length, 4);
  });

  it('ejects an instance that keeps failing (origin with a port, matched exactly)', async () => {
    const failing = upstreams[2] as Upstream;
    failing.behaviour = { status: 503 };
    for (let i = 0; i < 30; i++) {
      const response = await fetch('http://ejecting.internal:8080/v1/e');
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    }
    const health = ejecting.endpoints().health.find((h) => h.id === failing.address);
    assert.deepEqual([health?.ejected, health?.reason], [true, 'consecutive-gateway-failures']);
    const before = failing.requests.length;
    for (let i = 0; i < 10; i++) await (await fetch('http://ejecting.internal:8080/v1/e')).arrayBuffer();
    assert.equal(failing.requests.length, before, 'no traffic to the ejected instance');
  });

  it('carries trace context: the upstream sees the attempt span as traceparent', async () => {
    const response = await fetch('http://traced.internal/v1/t');
    await response.text();
    const header = (upstreams[2] as Upstream).requests[0]?.headers['traceparent'];
    assert.equal(typeof header, 'string');
    const [, traceId, spanId] = String(header).split('-');
    const spans = sdk.spans().filter((span) => span.spanContext().traceId === traceId);
    assert.ok(spans.some((span) => span.spanContext().spanId === spanId), 'the traceparent names a recorded span');
  });

  it('leaves an unmapped origin untouched: no deadline header, no meshkit', async () => {
    const response = await fetch(`http://127.0.0.1:${outside.port}/plain`);
    assert.equal(await response.text(), `ok ${outside.port}`);
    assert.equal(outside.requests.length, 1);
    assert.equal(outside.requests[0]?.headers[DEADLINE_HEADER], undefined);
    assert.equal(upstreams.flatMap((u) => u.requests).length, 0);
  });

  it('streams a request body up and a response body down, with backpressure', async () => {
    for (const upstream of upstreams.slice(0, 2)) upstream.handler = (_req, res) => streamBody(res, 20, 2);
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(encoder.encode(`line ${i}\n`));
        controller.close();
      },
    });
    const response = await fetch('http://orders/v1/upload', { method: 'POST', body, duplex: 'half' } as RequestInit);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const chunks: string[] = [];
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(decoder.decode(value, { stream: true }));
      await new Promise((resolve) => setTimeout(resolve, 1)); // a slow reader
    }
    assert.equal(chunks.join(''), streamedText(20));
    const seen = upstreams.slice(0, 2).flatMap((u) => u.requests);
    assert.deepEqual(seen.map((r) => [r.method, r.body]), [['POST', 'line 0\nline 1\nline 2\nline 3\nline 4\n']]);
  });

  it("never replays a streamed body: a 503 to it is the answer, sent once", async () => {
    for (const upstream of upstreams.slice(0, 2)) upstream.behaviour = { status: 503, body: 'busy' };
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('once'));
        controller.close();
      },
    });
    const response = await fetch('http://orders/v1/put', { method: 'PUT', body, duplex: 'half' } as RequestInit);
    assert.equal(response.status, 503);
    assert.equal(await response.text(), 'busy');
    assert.equal(upstreams.slice(0, 2).flatMap((u) => u.requests).length, 1);
  });

  it("aborts on the caller's signal: fetch rejects with the signal's reason and no endpoint is charged", async () => {
    const slow = upstreams[2] as Upstream;
    await (await fetch('http://traced.internal/v1/warm')).text();
    assert.equal(endpointRecord(traced).failures, 0);
    slow.behaviour = { delayMs: 2000 };
    const started = Date.now();
    const controller = new AbortController();
    const pending = fetch('http://traced.internal/v1/slow', { signal: controller.signal });
    await waitFor(() => slow.requests.length === 2);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await assert.rejects(pending, (error) => error === reason);
    assert.ok(Date.now() - started < 1500, 'rejected at the abort, not when the upstream answered');
    await waitFor(() => dispatcher.inFlight === 0 && traced.activeCalls === 0);
    const record = endpointRecord(traced);
    assert.deepEqual([record.failures, record.inFlight], [0, 0], 'the abort charged nothing to the endpoint');
  });

  it("aborts a response body being read, and bounds it by the call's deadline", async () => {
    for (const upstream of upstreams.slice(0, 2)) upstream.handler = (_req, res) => stallBody(res);
    const controller = new AbortController();
    const response = await fetch('http://orders/v1/stall', { signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'partial;');
    controller.abort(new Error('enough'));
    await assert.rejects(reader.read(), /enough/);
    await waitFor(() => dispatcher.inFlight === 0);

    // The deadline: a 300 ms call whose body never ends fails its read at about 300 ms.
    const started = Date.now();
    const slow = await fetch('http://timed/v1/stall');
    assert.equal(slow.status, 200);
    const error = await slow.text().catch((thrown: unknown) => thrown);
    const elapsed = Date.now() - started;
    assert.ok(error instanceof Error, 'the body read failed');
    const cause = (error as Error & { cause?: unknown }).cause;
    assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED') || isMeshkitError(cause, 'ERR_DEADLINE_EXCEEDED'), `got ${String(error)} / ${String(cause)}`);
    assert.ok(elapsed >= 250 && elapsed < 2500, `failed at the deadline (${elapsed} ms)`);
    await waitFor(() => dispatcher.inFlight === 0 && timed.activeCalls === 0);
  });

  it("rejects as fetch does, with meshkit's error as the cause", async () => {
    const refusing = client('refusing').endpoints([`127.0.0.1:${await closedPort()}`]).retry(false).build();
    const local = meshkitDispatcher({ routes: { 'http://refusing': refusing } });
    try {
      const error = await fetch('http://refusing/v1/x', { dispatcher: local } as unknown as RequestInit).catch((thrown: unknown) => thrown);
      assert.ok(error instanceof TypeError, `got ${String(error)}`);
      const cause = (error as TypeError & { cause?: unknown }).cause;
      assert.ok(isMeshkitError(cause, 'ERR_UPSTREAM') && cause.blame === 'upstream', `cause ${String(cause)}`);
    } finally {
      await local.close();
      await refusing.close();
    }
  });

  it('follows a redirect within the routed origin (fetch re-dispatches the Location)', async () => {
    for (const upstream of upstreams.slice(0, 2)) upstream.handler = (req, res) => {
      if (req.url === '/old') {
        res.writeHead(302, { location: '/new' });
        res.end();
      } else {
        res.end(`at ${req.url ?? ''}`);
      }
    };
    const response = await fetch('http://orders/old');
    assert.equal(await response.text(), 'at /new');
    assert.equal(response.redirected, true);
    assert.equal(response.url, 'http://orders/new');
  });
});

async function waitFor(condition: () => boolean, limitMs = 3000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
