import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { circuitBreaker, client, roundRobin } from '../../src/index.js';
import { openTelemetry } from '../../src/otel/index.js';
import { closedPort, startUpstream, startUpstreams, type Upstream } from '../helpers/upstream.js';
import { callTree, startHedging, startSdk, type Sdk } from './support.js';

/** What an upstream saw in `traceparent`, split into its fields. */
function traceparentOf(upstream: Upstream, index: number): { traceId: string; spanId: string; flags: string } {
  const header = upstream.requests[index]?.headers['traceparent'];
  assert.equal(typeof header, 'string', `request ${index} carried a traceparent`);
  const [version, traceId, spanId, flags] = (header as string).split('-') as [string, string, string, string];
  assert.equal(version, '00');
  return { traceId, spanId, flags };
}

/** How far the SDK's whole-millisecond start of a span started now may be off, in nanoseconds. */
const SLACK = 2_000_000;

/** A span time in nanoseconds. */
function nanos([seconds, nanoseconds]: readonly [number, number]): number {
  return seconds * 1e9 + nanoseconds;
}

function event(span: ReadableSpan, name: string): Record<string, unknown> | undefined {
  return span.events.find((e) => e.name === name)?.attributes as Record<string, unknown> | undefined;
}

describe('openTelemetry() tracing with the real SDK', () => {
  let sdk: Sdk;
  let upstream: Upstream;
  before(async () => {
    sdk = startSdk();
    upstream = await startUpstream();
  });
  afterEach(() => {
    sdk.exporter.reset();
    upstream.requests.length = 0;
    upstream.handler = undefined;
    upstream.behaviour = {};
  });
  after(async () => {
    await upstream.close();
    await sdk.shutdown();
  });

  const telemetry = () => openTelemetry({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider, propagator: sdk.propagator });

  it('a call sent once is one CLIENT span with its attempt\'s endpoint, status and outcome, and the upstream continues under it', async () => {
    await using orders = client('orders').endpoints([upstream.address]).telemetry(telemetry()).build();
    const res = await orders.request({ path: '/v1/orders/42?token=abc' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    const spans = sdk.spans();
    assert.equal(spans.length, 1, 'no attempt span for a single attempt');
    const call = spans[0] as ReadableSpan;
    assert.equal(call.name, 'GET');
    assert.equal(call.kind, SpanKind.CLIENT);
    assert.equal(call.status.code, SpanStatusCode.UNSET);
    assert.deepEqual({ ...call.attributes }, {
      'meshkit.service': 'orders',
      'http.request.method': 'GET',
      'meshkit.attempts': 1,
      'meshkit.endpoint.id': upstream.address,
      'server.address': '127.0.0.1',
      'server.port': upstream.port,
      'url.full': `http://127.0.0.1:${upstream.port}/v1/orders/42?token=REDACTED`,
      'meshkit.outcome': 'ok',
      'http.response.status_code': 200,
    });
    const seenBy = traceparentOf(upstream, 0);
    assert.equal(seenBy.traceId, call.spanContext().traceId);
    assert.equal(seenBy.spanId, call.spanContext().spanId, 'the call span is the upstream\'s parent');
    assert.equal(seenBy.flags, '01');
  });

  it('a retried call is one call span with an attempt span per try, the first back-dated to when it was sent, and resend counts', async () => {
    let seen = 0;
    upstream.handler = (_req, res) => {
      res.writeHead(seen++ === 0 ? 503 : 200).end('x');
    };
    await using orders = client('orders').endpoints([upstream.address])
      .retry({ attempts: 3, backoff: { base: '1ms', cap: '2ms' } })
      .telemetry(telemetry()).build();
    const res = await orders.request({ path: '/v1/orders/42' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    const { call, attempts } = callTree(sdk.spans());
    assert.equal(call.name, 'GET');
    assert.equal(call.kind, SpanKind.CLIENT);
    assert.equal(call.status.code, SpanStatusCode.UNSET);
    assert.equal(call.attributes['meshkit.service'], 'orders');
    assert.equal(call.attributes['meshkit.attempts'], 2);
    assert.equal(call.attributes['http.request.method'], 'GET');
    assert.equal(call.attributes['http.response.status_code'], 200);
    assert.equal(call.attributes['server.address'], '127.0.0.1');
    assert.equal(call.attributes['server.port'], upstream.port);
    assert.equal(call.attributes['url.full'], `http://127.0.0.1:${upstream.port}/v1/orders/42`);

    assert.equal(attempts.length, 2);
    const [first, second] = attempts as [ReadableSpan, ReadableSpan];
    for (const span of attempts) {
      assert.equal(span.kind, SpanKind.CLIENT);
      assert.equal(span.name, 'GET');
      assert.equal(span.attributes['meshkit.endpoint.id'], upstream.address);
      assert.equal(span.attributes['server.port'], upstream.port);
      assert.equal(span.spanContext().traceId, call.spanContext().traceId);
    }
    assert.equal(first.attributes['meshkit.attempt'], 1);
    assert.equal(first.attributes['http.request.resend_count'], undefined, 'the first send is not a resend');
    assert.equal(first.attributes['http.response.status_code'], 503);
    assert.equal(first.attributes['error.type'], '503');
    assert.equal(first.status.code, SpanStatusCode.ERROR);
    assert.equal(second.attributes['meshkit.attempt'], 2);
    assert.equal(second.attributes['http.request.resend_count'], 1);
    assert.equal(second.attributes['meshkit.hedge'], undefined);
    assert.equal(second.attributes['http.response.status_code'], 200);
    assert.equal(second.status.code, SpanStatusCode.UNSET);

    assert.equal(first.attributes['meshkit.outcome'], 'status');
    assert.equal(call.attributes['meshkit.outcome'], undefined, 'the attempts carry their outcomes');
    // The first attempt's span was made when the retry started, with the times of the first attempt itself.
    // (A span started now has a whole-millisecond start, Date.now(), so comparisons with one allow SLACK.)
    assert.ok(nanos(call.startTime) - SLACK <= nanos(first.startTime), 'the first attempt starts within the call');
    assert.ok(nanos(first.startTime) < nanos(first.endTime));
    assert.ok(nanos(first.endTime) <= nanos(second.startTime) + SLACK, 'the first attempt ended before its retry started');
    assert.ok(nanos(second.endTime) <= nanos(call.endTime) + SLACK);

    // The first request went out under the call span (nobody knew yet that a retry would follow); the retry under its own span.
    assert.equal(upstream.requests.length, 2);
    for (const [index, span] of [call, second].entries()) {
      const seenBy = traceparentOf(upstream, index);
      assert.equal(seenBy.traceId, span.spanContext().traceId);
      assert.equal(seenBy.spanId, span.spanContext().spanId);
      assert.equal(seenBy.flags, '01');
    }
  });

  it("the call span's parent is the caller's active span", async () => {
    await using orders = client('orders').endpoints([upstream.address]).telemetry(telemetry()).build();
    const tracer = sdk.tracerProvider.getTracer('test');
    await tracer.startActiveSpan('inbound', async (inbound) => {
      const res = await orders.request({ path: '/' });
      await res.body.dump();
      inbound.end();
    });
    const inbound = sdk.spans().find((s) => s.name === 'inbound') as ReadableSpan;
    const call = sdk.spans().find((s) => s.attributes['meshkit.attempts'] !== undefined) as ReadableSpan;
    assert.equal(call.parentSpanContext?.spanId, inbound.spanContext().spanId);
    assert.equal(call.spanContext().traceId, inbound.spanContext().traceId);
    assert.equal(traceparentOf(upstream, 0).traceId, inbound.spanContext().traceId);
  });

  it('a hedged call shows both attempts, the hedge event, and the cancelled loser with status UNSET', async () => {
    await using hedging = await startHedging(telemetry());
    const { pair } = hedging;
    hedging.stallNext();
    sdk.exporter.reset();
    const res = await hedging.client.request({ path: '/hedged' });
    assert.equal(await res.body.text(), 'fast');
    const { call, attempts } = callTree(sdk.spans());
    assert.equal(attempts.length, 2);
    const [loser, winner] = attempts as [ReadableSpan, ReadableSpan];
    assert.equal(winner.attributes['meshkit.hedge'], true);
    assert.equal(winner.attributes['http.request.resend_count'], 1);
    assert.equal(winner.attributes['http.response.status_code'], 200);
    assert.equal(loser.attributes['meshkit.cancelled'], true);
    assert.equal(loser.status.code, SpanStatusCode.UNSET, 'a hedge loser is cancelled, not failed');
    assert.equal(loser.attributes['error.type'], undefined);
    assert.ok(event(loser, 'meshkit.hedge.lost') !== undefined);
    assert.notEqual(loser.attributes['server.port'], winner.attributes['server.port']);
    assert.deepEqual(event(call, 'meshkit.hedge'), { 'meshkit.attempt': 2, 'meshkit.endpoint.id': winner.attributes['meshkit.endpoint.id'] });
    assert.equal(call.attributes['meshkit.hedges'], 1);
    assert.equal(call.attributes['server.port'], winner.attributes['server.port'], 'the call span names the endpoint that answered');
    assert.equal(call.status.code, SpanStatusCode.UNSET);
    // The first attempt had started before the hedge: its span is back-dated, and its upstream saw the call span.
    assert.ok(nanos(loser.startTime) < nanos(winner.startTime), 'the loser\'s span starts when it was sent, before the hedge');
    assert.ok(nanos(winner.startTime) - nanos(loser.startTime) >= 100_000_000, 'the hedge went out about 150 ms after the first attempt');
    for (const [span, parent] of [[loser, call], [winner, winner]] as const) {
      const u = pair.find((p) => p.port === span.attributes['server.port']) as Upstream;
      assert.equal(traceparentOf(u, u.requests.length - 1).spanId, parent.spanContext().spanId);
    }
  });

  it('a final 4xx marks client spans as errors (semconv), with error.type the status', async () => {
    upstream.behaviour = { status: 404 };
    await using orders = client('orders').endpoints([upstream.address]).telemetry(telemetry()).build();
    const res = await orders.request({ path: '/missing', method: 'DELETE' });
    await res.body.dump();
    const { call, attempts } = callTree(sdk.spans());
    assert.equal(call.name, 'DELETE');
    assert.equal(attempts.length, 0);
    assert.equal(call.status.code, SpanStatusCode.ERROR);
    assert.equal(call.attributes['error.type'], '404');
    assert.equal(call.attributes['http.response.status_code'], 404);
    assert.equal(call.attributes['meshkit.outcome'], 'ok', 'a 404 is an answer, not a retryable failure');
  });

  it('non-standard methods are _OTHER with the original kept, and the span is named HTTP', async () => {
    await using orders = client('orders').endpoints([upstream.address]).telemetry(telemetry()).build();
    const res = await orders.request({ path: '/', method: 'PURGE' });
    await res.body.dump();
    const { call, attempts } = callTree(sdk.spans());
    assert.equal(attempts.length, 0);
    assert.equal(call.name, 'HTTP');
    assert.equal(call.attributes['http.request.method'], '_OTHER');
    assert.equal(call.attributes['http.request.method_original'], 'PURGE');
  });

  it('urlTemplate names spans {method} {template} and sets url.template', async () => {
    await using orders = client('orders').endpoints([upstream.address])
      .telemetry(openTelemetry({ tracerProvider: sdk.tracerProvider, urlTemplate: ({ path }) => path.replace(/\/\d+/g, '/{id}') }))
      .build();
    const res = await orders.request({ path: '/v1/orders/42' });
    await res.body.dump();
    const { call, attempts } = callTree(sdk.spans());
    assert.equal(call.name, 'GET /v1/orders/{id}');
    assert.equal(call.attributes['url.template'], '/v1/orders/{id}');
    assert.equal(attempts.length, 0);
  });

  it('a connection failure ends the spans with ERROR and the error code as error.type', async () => {
    const port = await closedPort();
    await using orders = client('orders').endpoints([`127.0.0.1:${port}`]).retry({ attempts: 1 }).telemetry(telemetry()).build();
    await assert.rejects(orders.request({ path: '/' }));
    const { call, attempts } = callTree(sdk.spans());
    assert.equal(attempts.length, 0);
    assert.equal(call.status.code, SpanStatusCode.ERROR);
    assert.equal(call.attributes['error.type'], 'ECONNREFUSED');
    assert.equal(call.attributes['http.response.status_code'], undefined);
    assert.equal(call.attributes['meshkit.outcome'], 'connect');
  });

  it('client.call() spans are named "{service} call", carry no HTTP attributes, and hand trace headers to the function', async () => {
    await using inventory = client('inventory').endpoints([upstream.address]).telemetry(telemetry()).build();
    let headers: Readonly<Record<string, string>> | undefined;
    const answer = await inventory.call(async (endpoint, attempt) => {
      headers = attempt.outboundHeaders;
      return endpoint.port;
    });
    assert.equal(answer, upstream.port);
    const { call, attempts } = callTree(sdk.spans());
    assert.equal(call.name, 'inventory call');
    assert.equal(call.attributes['http.request.method'], undefined);
    assert.equal(call.attributes['url.full'], undefined);
    assert.equal(attempts.length, 0);
    assert.equal(call.attributes['server.port'], upstream.port);
    assert.equal(call.attributes['meshkit.outcome'], 'ok');
    const [, traceId, spanId] = (headers?.['traceparent'] ?? '').split('-');
    assert.equal(traceId, call.spanContext().traceId);
    assert.equal(spanId, call.spanContext().spanId);
  });

  it('a call refused before any attempt (breaker open) is one error span without children, and the breaker change is an event', async () => {
    upstream.behaviour = { status: 500 };
    await using orders = client('orders').endpoints([upstream.address]).retry({ attempts: 1 })
      .policy(circuitBreaker({ volumeThreshold: 1, errorThreshold: 0.5, resetTimeout: '1m' }))
      .telemetry(telemetry()).build();
    const failed = await orders.request({ path: '/' });
    await failed.body.dump();
    const tripping = callTree(sdk.spans()).call;
    assert.deepEqual(event(tripping, 'meshkit.breaker.state_change'), {
      'meshkit.policy': 'circuit-breaker', 'meshkit.breaker.state': 'open', 'meshkit.breaker.previous_state': 'closed',
    });
    sdk.exporter.reset();
    await assert.rejects(orders.request({ path: '/' }), { code: 'ERR_CIRCUIT_OPEN' });
    const spans = sdk.spans();
    assert.equal(spans.length, 1);
    assert.equal(spans[0]?.attributes['error.type'], 'ERR_CIRCUIT_OPEN');
    assert.equal(spans[0]?.attributes['meshkit.attempts'], 0);
    assert.equal(spans[0]?.status.code, SpanStatusCode.ERROR);
  });

  it("another client of the same service name never adds its breaker change to this client's spans", async () => {
    const [slow, failing] = await startUpstreams([{ delayMs: 200 }, { status: 500 }]);
    try {
      await using a = client('orders').endpoints([slow!.address]).telemetry(telemetry()).build();
      await using b = client('orders').endpoints([failing!.address]).retry({ attempts: 1 })
        .policy(circuitBreaker({ volumeThreshold: 1, errorThreshold: 0.5, resetTimeout: '1m' }))
        .telemetry(telemetry()).build();
      const inFlight = a.request({ path: '/' }); // a's call span is open while b's breaker trips
      await (await b.request({ path: '/' })).body.dump();
      await (await inFlight).body.dump();
      const spans = sdk.spans();
      const ids = new Set(spans.map((s) => s.spanContext().spanId));
      const calls = spans.filter((s) => s.parentSpanContext === undefined || !ids.has(s.parentSpanContext.spanId));
      assert.equal(calls.length, 2);
      const withEvent = calls.filter((s) => s.events.some((e) => e.name === 'meshkit.breaker.state_change'));
      assert.equal(withEvent.length, 1, "b's tripping call only, not a's call in flight");
    } finally {
      await Promise.all([slow?.close(), failing?.close()]);
    }
  });

  it('an ejection is an event on the call spans in flight', async () => {
    const pair = await startUpstreams([{ status: 503 }, {}]);
    try {
      await using orders = client('orders').endpoints(pair.map((u) => u.address)).balancer(roundRobin())
        .retry({ attempts: 2, backoff: { base: '1ms', cap: '1ms' } })
        .outlierDetection({ consecutiveGatewayFailures: 1, maxEjectionPercent: 50 })
        .telemetry(telemetry()).build();
      for (let i = 0; i < 2; i++) {
        const res = await orders.request({ path: '/' });
        assert.equal(res.statusCode, 200);
        await res.body.dump();
      }
      const ejected = sdk.spans().filter((s) => s.events.some((e) => e.name === 'meshkit.endpoint.ejected'));
      assert.equal(ejected.length, 1, 'the call whose attempt failed carries the ejection');
      const attributes = event(ejected[0] as ReadableSpan, 'meshkit.endpoint.ejected');
      assert.equal(attributes?.['meshkit.endpoint.id'], pair[0]?.address);
      assert.equal(attributes?.['meshkit.ejection.reason'], 'consecutive-gateway-failures');
    } finally {
      await Promise.all(pair.map((u) => u.close()));
    }
  });

  it('retry budget exhaustion is an event on the call span', async () => {
    upstream.behaviour = { status: 503 };
    await using orders = client('orders').endpoints([upstream.address])
      .retry({ attempts: 3, backoff: { base: '1ms', cap: '1ms' }, budget: { ratio: 0, minPerSecond: 0 } })
      .telemetry(telemetry()).build();
    const res = await orders.request({ path: '/' });
    await res.body.dump();
    const { call, attempts } = callTree(sdk.spans());
    assert.equal(attempts.length, 0, 'the budget refused the retry: one attempt, on the call span');
    assert.equal(call.attributes['meshkit.outcome'], 'status');
    assert.ok(event(call, 'meshkit.retry_budget.exhausted') !== undefined);
    assert.equal(call.status.code, SpanStatusCode.ERROR);
  });
});
