import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client } from '../../src/index.js';
import { openTelemetry } from '../../src/otel/index.js';
import { DEFAULT_REDACTED_QUERY_PARAMS, redactPath, redactQuery, redactUrl, SEMCONV_REDACTED_QUERY_PARAMS } from '../../src/otel/redact.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { startSdk, type Sdk } from './support.js';

const NAMES: ReadonlySet<string> = new Set([...SEMCONV_REDACTED_QUERY_PARAMS, ...DEFAULT_REDACTED_QUERY_PARAMS].map((n) => n.toLowerCase()));

describe('redaction helpers', () => {
  it('replaces credentials with REDACTED:REDACTED@ (semconv)', () => {
    assert.equal(redactUrl('https://user:pw@example.com:8443/a?b=1', NAMES), 'https://REDACTED:REDACTED@example.com:8443/a?b=1');
    assert.equal(redactUrl('http://only-user@orders/x', NAMES), 'http://REDACTED:REDACTED@orders/x');
    assert.equal(redactUrl('http://orders/x@y', NAMES), 'http://orders/x@y', 'an @ in the path is not userinfo');
  });

  it('redacts the semconv signature parameters and the configured names, keeping the rest and the order', () => {
    assert.equal(
      redactQuery('AWSAccessKeyId=AK&keep=1&Signature=S&sig=x&X-Goog-Signature=g&token=t&Access_Token=a&api_key=k', NAMES),
      'AWSAccessKeyId=REDACTED&keep=1&Signature=REDACTED&sig=REDACTED&X-Goog-Signature=REDACTED&token=REDACTED&Access_Token=REDACTED&api_key=REDACTED',
    );
    assert.equal(redactQuery('a=1&b=2', NAMES), 'a=1&b=2');
    assert.equal(redactQuery('token', NAMES), 'token', 'a name without a value has nothing to hide');
    assert.equal(redactQuery('%74oken=secret', NAMES), '%74oken=REDACTED', 'percent-encoded names are matched decoded');
  });

  it('drops the fragment and leaves paths without a query alone', () => {
    assert.equal(redactPath('/a/b', NAMES), '/a/b');
    assert.equal(redactPath('/a?token=x#frag', NAMES), '/a?token=REDACTED');
  });
});

describe('redaction in spans (real SDK, real upstream)', () => {
  let sdk: Sdk;
  let upstream: Upstream;
  before(async () => {
    sdk = startSdk();
    upstream = await startUpstream();
  });
  after(async () => {
    await upstream.close();
    await sdk.shutdown();
  });

  it('client.fetch with user:password@ and a token in the query: no secret reaches any span attribute', async () => {
    await using orders = client('orders').endpoints([upstream.address])
      .telemetry(openTelemetry({ tracerProvider: sdk.tracerProvider })).build();
    const res = await orders.fetch('http://user:pw@orders/x?token=abc&Signature=s1g&keep=1');
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    // The upstream still got the real query: redaction is for telemetry only.
    assert.equal(upstream.requests.at(-1)?.url, '/x?token=abc&Signature=s1g&keep=1');
    const spans = sdk.spans();
    assert.equal(spans.length, 2);
    for (const span of spans) {
      assert.equal(span.attributes['url.full'], `http://127.0.0.1:${upstream.port}/x?token=REDACTED&Signature=REDACTED&keep=1`);
      const text = JSON.stringify({ attributes: span.attributes, events: span.events, name: span.name });
      for (const secret of ['pw', 'abc', 's1g', 'user']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
  });

  it('redactQueryParams adds names (the semconv ones stay)', async () => {
    sdk.exporter.reset();
    await using orders = client('orders').endpoints([upstream.address])
      .telemetry(openTelemetry({ tracerProvider: sdk.tracerProvider, redactQueryParams: ['session'] })).build();
    const res = await orders.request({ path: '/y?session=s&token=t&sig=g' });
    await res.body.dump();
    for (const span of sdk.spans()) {
      assert.equal(span.attributes['url.full'], `http://127.0.0.1:${upstream.port}/y?session=REDACTED&token=t&sig=REDACTED`);
    }
  });
});
