import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Span } from '@opentelemetry/api';
import { client } from '../../src/index.js';
import { HOOK_ERROR_CODE, openTelemetry, type RequestHookInfo, type ResponseHookInfo } from '../../src/otel/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { callTree, startSdk, type Sdk } from './support.js';

describe('openTelemetry() hooks', () => {
  let sdk: Sdk;
  let upstream: Upstream;
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  before(async () => {
    sdk = startSdk();
    upstream = await startUpstream();
    process.on('warning', onWarning);
  });
  afterEach(() => {
    sdk.exporter.reset();
    warnings.length = 0;
  });
  after(async () => {
    process.off('warning', onWarning);
    await upstream.close();
    await sdk.shutdown();
  });

  it('requestHook and responseHook annotate the call span and every attempt span', async () => {
    const requests: RequestHookInfo[] = [];
    const responses: ResponseHookInfo[] = [];
    await using orders = client('orders').endpoints([upstream.address])
      .retry({ attempts: 2, backoff: { base: '1ms', cap: '1ms' } })
      .telemetry(openTelemetry({
        tracerProvider: sdk.tracerProvider,
        requestHook: (span, info) => {
          requests.push(info);
          span.setAttribute('app.tenant', 'acme');
        },
        responseHook: (span, info) => {
          responses.push(info);
          const status = (info.response as { statusCode?: number } | undefined)?.statusCode;
          span.setAttribute('app.answered', status ?? -1);
        },
      })).build();

    // Sent once: one span, the call span, and each hook runs once on it.
    const res = await orders.request({ path: '/' });
    await res.body.dump();
    const once = callTree(sdk.spans());
    assert.equal(once.attempts.length, 0);
    assert.equal(once.call.attributes['app.tenant'], 'acme');
    assert.equal(once.call.attributes['app.answered'], 200);
    assert.deepEqual(requests.map((r) => r.attempt?.number), [undefined]);
    assert.deepEqual(responses.map((r) => [r.attempt?.number, r.outcome?.reason]), [[undefined, undefined]]);
    assert.equal(requests[0]?.call.service, 'orders');

    // Retried: the first attempt gets its span (and its hooks) when the retry starts, then the retry's.
    sdk.exporter.reset();
    requests.length = 0;
    responses.length = 0;
    let seen = 0;
    upstream.handler = (_req, response) => {
      response.writeHead(seen++ === 0 ? 503 : 200).end('x');
    };
    try {
      const retried = await orders.request({ path: '/' });
      await retried.body.dump();
    } finally {
      upstream.handler = undefined;
    }
    const { call, attempts } = callTree(sdk.spans());
    assert.equal(attempts.length, 2);
    for (const span of [call, ...attempts]) assert.equal(span.attributes['app.tenant'], 'acme');
    assert.deepEqual([call, ...attempts].map((s) => s.attributes['app.answered']), [200, 503, 200]);
    assert.deepEqual(requests.map((r) => r.attempt?.number), [undefined, 1, 2]);
    assert.deepEqual(responses.map((r) => [r.attempt?.number, r.outcome?.reason]), [[1, 'status'], [2, 'ok'], [undefined, undefined]]);
  });

  it('a throwing hook never breaks a call and is reported once with MESHKIT_TELEMETRY_HOOK_ERROR', async () => {
    const boom = (_span: Span): void => {
      throw new Error('hook bug');
    };
    await using orders = client('orders').endpoints([upstream.address]).telemetry(openTelemetry({
      tracerProvider: sdk.tracerProvider,
      requestHook: boom,
      responseHook: boom,
      urlTemplate: () => {
        throw new Error('template bug');
      },
    })).build();
    for (let i = 0; i < 3; i++) {
      const res = await orders.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
    await orders.call(async () => 'fine');
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    const ours = warnings.filter((w) => (w as { code?: string }).code === HOOK_ERROR_CODE);
    assert.deepEqual(ours.map((w) => w.message.split(' threw')[0]).sort(), [
      'meshkit: openTelemetry requestHook', 'meshkit: openTelemetry responseHook', 'meshkit: openTelemetry urlTemplate',
    ]);
    assert.ok(ours.every((w) => /hook bug|template bug/.test(w.message)));
    // Spans still end normally, named by method (the template failed): one per call, each sent once.
    const spans = sdk.spans();
    assert.equal(spans.length, 4);
    assert.ok(spans.filter((s) => s.attributes['http.request.method'] === 'GET').every((s) => s.name === 'GET'));
  });
});
