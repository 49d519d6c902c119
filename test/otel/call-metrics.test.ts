import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { MeterProvider } from '@opentelemetry/api';
import { DataPointType, type Histogram } from '@opentelemetry/sdk-metrics';
import { adaptiveConcurrency, circuitBreaker, client } from '../../src/index.js';
import { DURATION_BUCKETS, METRIC, openTelemetry } from '../../src/otel/index.js';
import { startUpstream, startUpstreams, type Upstream } from '../helpers/upstream.js';
import { metric, points, startHedging, startSdk, type Sdk } from './support.js';

/** Every attribute key meshkit may put on a metric point: bounded, no per-call ids. */
const ALLOWED_KEYS = new Set([
  'meshkit.service', 'http.request.method', 'server.address', 'server.port', 'http.response.status_code', 'error.type',
  'meshkit.attempt.kind', 'meshkit.outcome', 'meshkit.policy',
]);

describe('openTelemetry() metrics with the real SDK', () => {
  let sdk: Sdk;
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream();
  });
  afterEach(async () => {
    await sdk.shutdown();
    upstream.handler = undefined;
    upstream.behaviour = {};
  });
  after(async () => {
    await upstream.close();
  });

  const telemetry = () => openTelemetry({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
  /** The upstream answers its first request 503 and every later one 200. */
  const answerFirstWith503 = (): void => {
    let seen = 0;
    upstream.handler = (_req, res) => {
      res.writeHead(seen++ === 0 ? 503 : 200).end('x');
    };
  };

  it('a retried call records http.client.request.duration per attempt, call duration, attempts and retries', async () => {
    sdk = startSdk();
    answerFirstWith503();
    await using orders = client('orders').endpoints([upstream.address])
      .retry({ attempts: 3, backoff: { base: '1ms', cap: '2ms' } }).telemetry(telemetry()).build();
    const res = await orders.request({ path: '/v1/orders/42' });
    await res.body.dump();
    const metrics = await sdk.reader.metrics();

    const duration = metric(metrics, 'http.client.request.duration');
    assert.equal(duration.descriptor.unit, 's');
    assert.equal(duration.dataPointType, DataPointType.HISTOGRAM);
    const base = { 'meshkit.service': 'orders', 'http.request.method': 'GET', 'server.address': '127.0.0.1', 'server.port': upstream.port };
    const failed = points(duration, { ...base, 'http.response.status_code': 503, 'error.type': '503' });
    const ok = points(duration, { ...base, 'http.response.status_code': 200 }).filter((p) => p.attributes['error.type'] === undefined);
    assert.equal(failed.length, 1);
    assert.equal(ok.length, 1);
    const histogram = ok[0]?.value as Histogram;
    assert.equal(histogram.count, 1);
    assert.deepEqual(histogram.buckets.boundaries, [...DURATION_BUCKETS], 'the semconv advisory boundaries');
    assert.ok(histogram.sum !== undefined && histogram.sum >= 0 && histogram.sum < 10);

    const call = metric(metrics, METRIC.callDuration);
    assert.equal(call.descriptor.unit, 's');
    const calls = points(call, { 'meshkit.service': 'orders', 'http.request.method': 'GET', 'http.response.status_code': 200 });
    assert.equal((calls[0]?.value as Histogram).count, 1);

    const attempts = metric(metrics, METRIC.attempts);
    assert.equal(attempts.descriptor.unit, '{attempt}');
    assert.equal(points(attempts, { 'meshkit.attempt.kind': 'first', 'meshkit.outcome': 'status' })[0]?.value, 1);
    assert.equal(points(attempts, { 'meshkit.attempt.kind': 'retry', 'meshkit.outcome': 'ok' })[0]?.value, 1);
    assert.equal(points(metric(metrics, METRIC.retries), { 'meshkit.service': 'orders' })[0]?.value, 1);

    for (const data of metrics) {
      for (const point of data.dataPoints) {
        for (const key of Object.keys(point.attributes)) assert.ok(ALLOWED_KEYS.has(key), `${data.descriptor.name} has attribute ${key}`);
      }
    }
  });

  it('observable instruments report endpoints, staleness, active calls, breaker state and the adaptive limit from the snapshot', async () => {
    sdk = startSdk();
    const pair = await startUpstreams([{}, {}]);
    try {
      await using orders = client('orders').endpoints(pair.map((u) => u.address))
        .policy(circuitBreaker())
        .policy(adaptiveConcurrency())
        .telemetry(telemetry()).build();
      const res = await orders.request({ path: '/' });
      await res.body.dump();
      const metrics = await sdk.reader.metrics();
      const service = { 'meshkit.service': 'orders' };
      assert.equal(points(metric(metrics, METRIC.endpoints), service)[0]?.value, 2);
      assert.equal(metric(metrics, METRIC.endpoints).descriptor.unit, '{endpoint}');
      assert.equal(points(metric(metrics, METRIC.ejected), service)[0]?.value, 0);
      assert.equal(points(metric(metrics, METRIC.activeCalls), service)[0]?.value, 0);
      assert.equal(points(metric(metrics, METRIC.discoveryStale), service)[0]?.value, 0);
      const age = points(metric(metrics, METRIC.discoveryAge), service)[0]?.value as number;
      assert.equal(metric(metrics, METRIC.discoveryAge).descriptor.unit, 's');
      assert.ok(age >= 0 && age < 60, `age ${age}`);
      assert.equal(points(metric(metrics, METRIC.breakerState), { ...service, 'meshkit.policy': 'circuit-breaker' })[0]?.value, 0);
      const limit = points(metric(metrics, METRIC.concurrencyLimit), { ...service, 'meshkit.policy': 'adaptive-concurrency' })[0]?.value;
      assert.equal(typeof limit, 'number');
      assert.ok((limit as number) >= 1);
      await orders.close();
      const stale = await sdk.reader.metrics();
      // Cumulative series keep their last value after close(); what must stop is the callback (see the next test).
      assert.equal(points(metric(stale, METRIC.activeCalls), service)[0]?.value, 0);
    } finally {
      await Promise.all(pair.map((u) => u.close()));
    }
  });

  it('attempt counts add up across collections, and the ones made since the last collection survive close()', async () => {
    sdk = startSdk();
    const orders = client('orders').endpoints([upstream.address]).telemetry(telemetry()).build();
    const send = async (times: number): Promise<void> => {
      for (let i = 0; i < times; i++) await (await orders.request({ path: '/' })).body.dump();
    };
    const firstOk = async (): Promise<unknown> =>
      points(metric(await sdk.reader.metrics(), METRIC.attempts), { 'meshkit.service': 'orders', 'meshkit.attempt.kind': 'first', 'meshkit.outcome': 'ok' })[0]?.value;
    try {
      await send(3);
      assert.equal(await firstOk(), 3);
      assert.equal(await firstOk(), 3, 'a collection with nothing new changes nothing');
      await send(2);
      assert.equal(await firstOk(), 5);
      await send(4);
    } finally {
      await orders.close();
    }
    assert.equal(await firstOk(), 9, 'close() adds what it still held; the cumulative sum stays exported');
  });

  it('close() removes the batch observable callback it added', async () => {
    sdk = startSdk();
    const calls: string[] = [];
    const counting: MeterProvider = {
      getMeter(name, version, options) {
        const meter = sdk.meterProvider.getMeter(name, version, options);
        return new Proxy(meter, {
          get(target, key, receiver) {
            const value: unknown = Reflect.get(target, key, receiver);
            if ((key === 'addBatchObservableCallback' || key === 'removeBatchObservableCallback') && typeof value === 'function') {
              return (...args: unknown[]) => {
                calls.push(key);
                return (value as (...a: unknown[]) => unknown).apply(target, args);
              };
            }
            return value;
          },
        });
      },
    };
    const orders = client('orders').endpoints([upstream.address]).telemetry(openTelemetry({ meterProvider: counting })).build();
    assert.deepEqual(calls, ['addBatchObservableCallback']);
    await orders.close();
    assert.deepEqual(calls, ['addBatchObservableCallback', 'removeBatchObservableCallback']);
  });

  it('breaker state reads 1 while open', async () => {
    sdk = startSdk();
    upstream.behaviour = { status: 500 };
    await using orders = client('orders').endpoints([upstream.address]).retry({ attempts: 1 })
      .policy(circuitBreaker({ volumeThreshold: 1, resetTimeout: '1m' })).telemetry(telemetry()).build();
    const res = await orders.request({ path: '/' });
    await res.body.dump();
    const metrics = await sdk.reader.metrics();
    assert.equal(points(metric(metrics, METRIC.breakerState), { 'meshkit.service': 'orders' })[0]?.value, 1);
  });

  it('counts hedges, and a hedge loser as outcome hedge-lost', async () => {
    sdk = startSdk();
    await using hedging = await startHedging(telemetry());
    hedging.stallNext();
    const res = await hedging.client.request({ path: '/' });
    await res.body.dump();
    const metrics = await sdk.reader.metrics();
    assert.equal(points(metric(metrics, METRIC.hedges), { 'meshkit.service': 'orders' })[0]?.value, 1);
    const attempts = metric(metrics, METRIC.attempts);
    assert.equal(points(attempts, { 'meshkit.attempt.kind': 'hedge', 'meshkit.outcome': 'ok' })[0]?.value, 1);
    assert.equal(points(attempts, { 'meshkit.attempt.kind': 'first', 'meshkit.outcome': 'hedge-lost' })[0]?.value, 1);
    const retries = metrics.find((m) => m.descriptor.name === METRIC.retries);
    assert.equal(retries === undefined ? 0 : retries.dataPoints.length, 0, 'a hedge is not a retry');
  });

  it('counts retry budget rejections', async () => {
    sdk = startSdk();
    upstream.behaviour = { status: 503 };
    await using orders = client('orders').endpoints([upstream.address])
      .retry({ attempts: 3, backoff: { base: '1ms', cap: '1ms' }, budget: { ratio: 0, minPerSecond: 0 } })
      .telemetry(telemetry()).build();
    for (let i = 0; i < 2; i++) {
      const res = await orders.request({ path: '/' });
      await res.body.dump();
    }
    const metrics = await sdk.reader.metrics();
    assert.equal(points(metric(metrics, METRIC.budgetRejections), { 'meshkit.service': 'orders' })[0]?.value, 2);
    assert.equal(metric(metrics, METRIC.budgetRejections).descriptor.unit, '{retry}');
  });

  it('callDuration: false drops meshkit.client.call.duration and keeps every other metric', async () => {
    sdk = startSdk();
    answerFirstWith503();
    await using orders = client('orders').endpoints([upstream.address])
      .retry({ attempts: 3, backoff: { base: '1ms', cap: '2ms' }, budget: { ratio: 0, minPerSecond: 0 } })
      .telemetry(openTelemetry({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider, callDuration: false })).build();
    await using fn = client('fn').endpoints([upstream.address])
      .telemetry(openTelemetry({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider, callDuration: false })).build();
    const res = await orders.request({ path: '/' });
    await res.body.dump();
    assert.equal(res.statusCode, 503, 'the budget refused the retry');
    await fn.call(async () => 'done');
    const metrics = await sdk.reader.metrics();

    assert.equal(metrics.find((m) => m.descriptor.name === METRIC.callDuration), undefined, 'no instrument, so no empty series either');
    const base = { 'meshkit.service': 'orders', 'http.request.method': 'GET', 'server.address': '127.0.0.1', 'server.port': upstream.port };
    const failed = points(metric(metrics, METRIC.requestDuration), { ...base, 'http.response.status_code': 503 });
    assert.equal((failed[0]?.value as Histogram).count, 1);
    assert.equal(points(metric(metrics, METRIC.budgetRejections), { 'meshkit.service': 'orders' })[0]?.value, 1);
    assert.equal(points(metric(metrics, METRIC.attempts), { 'meshkit.service': 'fn', 'meshkit.outcome': 'ok' })[0]?.value, 1);
  });

  it('metrics: false records none; client.call() records call duration and attempts but no HTTP duration', async () => {
    sdk = startSdk();
    await using quiet = client('quiet').endpoints([upstream.address])
      .telemetry(openTelemetry({ meterProvider: sdk.meterProvider, tracerProvider: sdk.tracerProvider, metrics: false })).build();
    await (await quiet.request({ path: '/' })).body.dump();
    await using fn = client('fn').endpoints([upstream.address]).telemetry(telemetry()).build();
    await fn.call(async () => 'done');
    const metrics = await sdk.reader.metrics();
    for (const data of metrics) assert.equal(points(data, { 'meshkit.service': 'quiet' }).length, 0, data.descriptor.name);
    const durations = metrics.find((m) => m.descriptor.name === 'http.client.request.duration');
    assert.equal(durations === undefined ? 0 : durations.dataPoints.length, 0);
    assert.equal((points(metric(metrics, METRIC.callDuration), { 'meshkit.service': 'fn' })[0]?.value as Histogram).count, 1);
    assert.equal(points(metric(metrics, METRIC.attempts), { 'meshkit.service': 'fn', 'meshkit.outcome': 'ok' })[0]?.value, 1);
  });
});
