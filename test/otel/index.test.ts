import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { metrics, propagation, SpanKind, trace } from '@opentelemetry/api';
import { client, isMeshkitError } from '../../src/index.js';
import { METRIC, openTelemetry, type OpenTelemetryOptions } from '../../src/otel/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { callTree, metric, points, startSdk, type Sdk } from './support.js';

describe('openTelemetry() defaults: the global API', () => {
  let upstream: Upstream;
  let sdk: Sdk;
  before(async () => {
    upstream = await startUpstream();
  });
  afterEach(async () => {
    trace.disable();
    metrics.disable();
    propagation.disable();
    upstream.requests.length = 0;
    await sdk.shutdown();
  });
  after(async () => {
    await upstream.close();
  });

  it('with no SDK registered, calls work, nothing is recorded and no trace header is sent', async () => {
    sdk = startSdk(); // exists but is not registered
    await using orders = client('orders').endpoints([upstream.address]).telemetry(openTelemetry()).build();
    const res = await orders.request({ path: '/' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(await orders.call(async () => 7), 7);
    assert.equal(sdk.spans().length, 0);
    assert.equal(upstream.requests[0]?.headers['traceparent'], undefined);
    const collected = await sdk.reader.metrics();
    assert.equal(collected.length, 0);
  });

  it('with the SDK registered globally, zero options give spans, traceparent and metrics', async () => {
    sdk = startSdk();
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    metrics.setGlobalMeterProvider(sdk.meterProvider);
    propagation.setGlobalPropagator(sdk.propagator);
    await using orders = client('orders').endpoints([upstream.address]).telemetry(openTelemetry()).build();
    const res = await orders.request({ path: '/' });
    await res.body.dump();
    const { call, attempts } = callTree(sdk.spans());
    assert.equal(attempts.length, 0);
    const [, traceId, spanId] = String(upstream.requests[0]?.headers['traceparent']).split('-');
    assert.equal(traceId, call.spanContext().traceId);
    assert.equal(spanId, call.spanContext().spanId);
    const collected = await sdk.reader.metrics();
    assert.equal(points(metric(collected, 'http.client.request.duration'), { 'meshkit.service': 'orders' }).length, 1);
    assert.equal(points(metric(collected, METRIC.endpoints), { 'meshkit.service': 'orders' })[0]?.value, 1);
  });

  it('a client built before the SDK registers its tracer still gets spans (the global tracer is a proxy)', async () => {
    sdk = startSdk();
    await using orders = client('orders').endpoints([upstream.address]).telemetry(openTelemetry()).build();
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    const res = await orders.request({ path: '/' });
    await res.body.dump();
    assert.equal(sdk.spans().length, 1);
  });
});

describe('openTelemetry() options', () => {
  it('rejects bad options with ERR_INVALID_CONFIG naming the option', () => {
    const bad: [string, unknown][] = [
      ['tracerProvider', {}],
      ['meterProvider', 42],
      ['propagator', { inject() {} }],
      ['requestHook', 'nope'],
      ['responseHook', {}],
      ['urlTemplate', 1],
      ['redactQueryParams', 'token'],
      ['redactQueryParams', ['']],
      ['urlScheme', 'ftp'],
      ['callSpanKind', 'server'],
      ['metrics', 'yes'],
      ['callDuration', 'no'],
      ['tracing', 1],
    ];
    for (const [option, value] of bad) {
      assert.throws(() => openTelemetry({ [option]: value } as OpenTelemetryOptions), (error: unknown) =>
        isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === `openTelemetry.${option}`, option);
    }
    assert.throws(() => openTelemetry(null as unknown as OpenTelemetryOptions), { code: 'ERR_INVALID_CONFIG' });
  });

  it('is a factory named openTelemetry that the builder accepts', () => {
    const factory = openTelemetry();
    assert.equal(factory.name, 'openTelemetry');
    assert.equal(typeof factory.create, 'function');
  });

  it("callSpanKind 'internal' and urlScheme 'https' shape the spans", async () => {
    const sdk = startSdk();
    const upstream = await startUpstream();
    try {
      await using orders = client('orders').endpoints([upstream.address])
        .telemetry(openTelemetry({ tracerProvider: sdk.tracerProvider, callSpanKind: 'internal', urlScheme: 'https' })).build();
      const res = await orders.request({ path: '/a' });
      await res.body.dump();
      const { call, attempts } = callTree(sdk.spans());
      assert.equal(call.kind, SpanKind.INTERNAL);
      // An INTERNAL call span cannot stand for the request: even a single attempt has its CLIENT span, and the upstream sees it.
      assert.equal(attempts.length, 1);
      assert.equal(attempts[0]?.kind, SpanKind.CLIENT);
      assert.equal(attempts[0]?.attributes['url.full'], `https://127.0.0.1:${upstream.port}/a`);
      assert.equal(attempts[0]?.attributes['meshkit.outcome'], 'ok');
      assert.equal(call.attributes['meshkit.outcome'], undefined);
    } finally {
      await upstream.close();
      await sdk.shutdown();
    }
  });

  it('tracing: false sends no trace header and makes no spans', async () => {
    const sdk = startSdk();
    const upstream = await startUpstream();
    try {
      await using orders = client('orders').endpoints([upstream.address])
        .telemetry(openTelemetry({ tracerProvider: sdk.tracerProvider, propagator: sdk.propagator, tracing: false })).build();
      const res = await orders.request({ path: '/' });
      await res.body.dump();
      assert.equal(sdk.spans().length, 0);
      assert.equal(upstream.requests[0]?.headers['traceparent'], undefined);
    } finally {
      await upstream.close();
      await sdk.shutdown();
    }
  });
});
