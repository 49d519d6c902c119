import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client } from '../../src/index.js';
import { openTelemetry } from '../../src/otel/index.js';
import { resolveOpenTelemetryOptions } from '../../src/otel/options.js';
import {
  DEFAULT_REDACTED_QUERY_PARAMS, redactPath, redactQuery, redactUrl, SEMCONV_REDACTED_QUERY_PARAMS, SIGNED_URL_QUERY_PARAMS,
} from '../../src/otel/redact.js';
import { MeshkitError } from '../../src/core/errors.js';
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

  it('by default redacts AWS presigned-URL parameters, keys, secrets, JWTs and sessions, whatever their case', () => {
    const defaults = resolveOpenTelemetryOptions(undefined).redactQueryParams;
    const secrets = [
      'X-Amz-Signature', 'x-amz-signature', 'X-Amz-Credential', 'X-AMZ-CREDENTIAL', 'X-Amz-Security-Token', 'sig', 'SIG',
      'signature', 'Signature', 'key', 'KEY', 'api_key', 'api-key', 'Api-Key', 'secret', 'Secret', 'jwt', 'JWT', 'session', 'Session',
    ];
    for (const name of secrets) {
      assert.equal(redactQuery(`keep=1&${name}=hunter2`, defaults), `keep=1&${name}=REDACTED`, name);
    }
    assert.equal(redactQuery('X-Amz-Date=20260101T000000Z&X-Amz-Expires=60', defaults), 'X-Amz-Date=20260101T000000Z&X-Amz-Expires=60', 'dates are no secret');
    // The signed-URL names stay redacted when the caller replaces the default list.
    const replaced = resolveOpenTelemetryOptions({ redactQueryParams: ['tenant'] }).redactQueryParams;
    assert.equal(
      redactQuery('x-amz-credential=AKIA%2F1&X-Amz-Security-Token=tok&X-Amz-Signature=abc&tenant=t&key=k', replaced),
      'x-amz-credential=REDACTED&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED&tenant=REDACTED&key=k',
    );
  });

  it('redactUrl(url) alone redacts with meshkit\'s own lists, as openTelemetry() does by default', () => {
    const url = 'https://u:p@bucket.example/o?X-Amz-Credential=AKIA1&X-Amz-Signature=beef&AWSAccessKeyId=AKIA2&token=t&keep=1#frag';
    assert.equal(
      redactUrl(url),
      'https://REDACTED:REDACTED@bucket.example/o?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&AWSAccessKeyId=REDACTED&token=REDACTED&keep=1',
    );
    assert.equal(redactUrl('/x?Api-Key=k&session=s&q=1'), '/x?Api-Key=REDACTED&session=REDACTED&q=1', 'a path alone');
  });

  it('redactUrl compares names without regard to case, whatever the case of the names given', () => {
    const url = 'https://bucket.example/o?x-amz-signature=beef&AWSACCESSKEYID=AKIA&Token=t&keep=1';
    const expected = 'https://bucket.example/o?x-amz-signature=REDACTED&AWSACCESSKEYID=REDACTED&Token=REDACTED&keep=1';
    const exported = [...SEMCONV_REDACTED_QUERY_PARAMS, ...SIGNED_URL_QUERY_PARAMS, ...DEFAULT_REDACTED_QUERY_PARAMS];
    assert.equal(redactUrl(url, new Set(exported)), expected, 'a Set of the exported, mixed-case names');
    assert.equal(redactUrl(url, exported), expected, 'an array');
    const mine = new Set(['TOKEN']);
    assert.equal(redactUrl('/x?token=t&tenant=a', mine), '/x?token=REDACTED&tenant=a');
    mine.add('Tenant');
    assert.equal(redactUrl('/x?token=t&tenant=a', mine), '/x?token=REDACTED&tenant=REDACTED', 'a Set changed after a first use is read again');
    mine.delete('TOKEN');
    assert.equal(redactUrl('/x?token=t&tenant=a', mine), '/x?token=t&tenant=REDACTED');
    for (const bad of ['token', 42, null, new Set([1])]) {
      assert.throws(() => redactUrl('/x?a=1', bad as never), (error: unknown) => error instanceof MeshkitError && error.code === 'ERR_INVALID_CONFIG', String(bad));
    }
  });

  it('matches names with brackets (qs, PHP, Rails) on the part before them and on each bracketed name', () => {
    assert.equal(
      redactQuery('token[]=a&token[]=b&api_key[0]=k&user[password]=p&user[name]=n&a[b][secret]=s&filter[q]=1&%74oken%5B%5D=e', NAMES),
      'token[]=REDACTED&token[]=REDACTED&api_key[0]=REDACTED&user[password]=REDACTED&user[name]=n&a[b][secret]=REDACTED&filter[q]=1&%74oken%5B%5D=REDACTED',
    );
    assert.equal(redactQuery('user[Password]=p&USER%5BPASSWORD%5D=q&[]=x&keep[=1&token[=t', NAMES), 'user[Password]=REDACTED&USER%5BPASSWORD%5D=REDACTED&[]=x&keep[=1&token[=REDACTED');
    assert.equal(redactUrl('http://a/x?token[]=s2&user[password]=s3&api_key[0]=s4'), 'http://a/x?token[]=REDACTED&user[password]=REDACTED&api_key[0]=REDACTED');
  });

  it('keeps empty parts, values with = in them and names without values as they were', () => {
    assert.equal(redactQuery('&&token=a=b&&keep=1=2&token&=x&', NAMES), '&&token=REDACTED&&keep=1=2&token&=x&');
    const query = 'a=1&b=2&c';
    assert.equal(redactQuery(query, NAMES), query);
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
    assert.equal(spans.length, 1, 'one attempt: the call span alone');
    for (const span of spans) {
      assert.equal(span.attributes['url.full'], `http://127.0.0.1:${upstream.port}/x?token=REDACTED&Signature=REDACTED&keep=1`);
      const text = JSON.stringify({ attributes: span.attributes, events: span.events, name: span.name });
      for (const secret of ['pw', 'abc', 's1g', 'user']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
  });

  it('an AWS presigned URL reaches no span attribute with its signature, credential or session token', async () => {
    sdk.exporter.reset();
    await using orders = client('orders').endpoints([upstream.address])
      .telemetry(openTelemetry({ tracerProvider: sdk.tracerProvider })).build();
    const query = 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request'
      + '&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7'
      + '&jwt=eyJhbGciOi.e30.sig&Session=s3ss10n&Api-Key=k3y';
    const res = await orders.request({ path: `/bucket/object?${query}` });
    await res.body.dump();
    assert.equal(upstream.requests.at(-1)?.url, `/bucket/object?${query}`, 'the upstream gets the real query');
    const spans = sdk.spans();
    assert.equal(spans.length, 1, 'one attempt: the call span alone');
    for (const span of spans) {
      assert.equal(span.attributes['url.full'], `http://127.0.0.1:${upstream.port}/bucket/object?X-Amz-Algorithm=AWS4-HMAC-SHA256`
        + '&X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED&jwt=REDACTED&Session=REDACTED&Api-Key=REDACTED');
      const text = JSON.stringify({ attributes: span.attributes, events: span.events, name: span.name });
      for (const secret of ['AKIAEXAMPLE', 'FwoGZXIvYXdzEXAMPLE', '5d672d79', 'eyJhbGciOi', 's3ss10n', 'k3y']) {
        assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
      }
    }
  });

  it('parameters with brackets reach no span attribute in clear (url.full)', async () => {
    sdk.exporter.reset();
    await using orders = client('orders').endpoints([upstream.address])
      .telemetry(openTelemetry({ tracerProvider: sdk.tracerProvider })).build();
    const res = await orders.request({ path: '/z?token[]=s3cr3t1&user[password]=s3cr3t2&api_key[0]=s3cr3t3&page=2' });
    await res.body.dump();
    const spans = sdk.spans();
    assert.equal(spans.length, 1);
    assert.equal(spans[0]?.attributes['url.full'],
      `http://127.0.0.1:${upstream.port}/z?token[]=REDACTED&user[password]=REDACTED&api_key[0]=REDACTED&page=2`);
    assert.ok(!JSON.stringify(spans[0]?.attributes).includes('s3cr3t'));
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
