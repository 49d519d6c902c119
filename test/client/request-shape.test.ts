// request({ query, json }) and the builder's .defaults({ basePath, headers }), against a real upstream.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { client, isMeshkitError, type Client } from '../../src/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const invalidArgument = (argument: string) => (error: unknown): boolean =>
  isMeshkitError(error, 'ERR_INVALID_ARGUMENT') && (error.details as { argument?: string }).argument === argument;

describe('request options: query and json', () => {
  let upstream: Upstream;
  let c: Client;
  before(async () => {
    upstream = await startUpstream();
    c = client('orders').endpoints([upstream.address]).build();
  });
  afterEach(() => {
    upstream.requests.length = 0;
  });
  after(async () => {
    await c.close();
    await upstream.close();
  });

  it('query: appended to the path (after a query it has), encoded, lists repeated, undefined left out', async () => {
    await (await c.request({ path: '/v1/orders', query: { page: 2, tag: ['a b', 'c&d'], all: true, big: 10n, skip: undefined } })).body.dump();
    await (await c.request({ path: '/v1/orders?x=1', query: new URLSearchParams({ y: '2' }) })).body.dump();
    await (await c.request({ path: '/v1/orders', query: {} })).body.dump();
    assert.deepEqual(upstream.requests.map((r) => r.url), [
      '/v1/orders?page=2&tag=a+b&tag=c%26d&all=true&big=10',
      '/v1/orders?x=1&y=2',
      '/v1/orders',
    ]);
  });

  it('json: the body as JSON with content-type application/json (unless the call sets one); re-sent on retry', async (t) => {
    let first = true;
    upstream.handler = (_req, res) => {
      res.writeHead(first ? 503 : 200).end();
      first = false;
    };
    t.after(() => { upstream.handler = undefined; });
    const res = await c.request({ path: '/v1/orders', method: 'PUT', json: { id: 42, lines: ['x'] } });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    assert.equal(upstream.requests.length, 2, 'retried: a PUT with a JSON body can be sent again');
    for (const request of upstream.requests) {
      assert.equal(request.body, '{"id":42,"lines":["x"]}');
      assert.equal(request.headers['content-type'], 'application/json');
    }
    await (await c.request({ path: '/', method: 'POST', json: null, headers: { 'Content-Type': 'application/merge-patch+json' } })).body.dump();
    assert.equal(upstream.requests.at(-1)?.body, 'null');
    assert.equal(upstream.requests.at(-1)?.headers['content-type'], 'application/merge-patch+json');
  });

  it('bad query, json, or json with body: ERR_INVALID_ARGUMENT naming the option; nothing is sent', async () => {
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    await assert.rejects(c.request({ path: '/', query: { a: { nested: 1 } as never } }), invalidArgument('options.query.a'));
    await assert.rejects(c.request({ path: '/', query: 'a=1' as never }), invalidArgument('options.query'));
    await assert.rejects(c.request({ path: '/', method: 'POST', json: circular }), invalidArgument('options.json'));
    await assert.rejects(c.request({ path: '/', method: 'POST', json: () => 1 }), invalidArgument('options.json'));
    await assert.rejects(c.request({ path: '/', method: 'POST', json: {}, body: 'x' }), invalidArgument('options.body'));
    await assert.rejects(c.request({ path: 'v1', query: { a: 1 } }), invalidArgument('options.path'));
    await assert.rejects(c.request({ path: '/', jsn: {} } as never), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_ARGUMENT')
      && /did you mean `json`/.test((error as Error).message));
    assert.equal(upstream.requests.length, 0);
  });
});

describe('builder .defaults({ basePath, headers })', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream();
  });
  afterEach(() => {
    upstream.requests.length = 0;
  });
  after(async () => upstream.close());

  it('prefixes the base path and sends the default headers; a call header of the same name wins', async () => {
    await using c = client('orders').endpoints([upstream.address])
      .defaults({ basePath: '/api/v1/', headers: { 'User-Agent': 'orders-app/1', 'x-tenant': ['a', 'b'] } }).build();
    await (await c.request({ path: '/orders', query: { q: 1 } })).body.dump();
    await (await c.request({ path: '/orders', headers: { 'user-agent': 'mine' } })).body.dump();
    await (await c.request({ path: '/orders', headers: ['X-Tenant', 'z'] })).body.dump();
    const [first, second, third] = upstream.requests;
    assert.equal(first?.url, '/api/v1/orders?q=1');
    assert.equal(first?.headers['user-agent'], 'orders-app/1');
    assert.equal(first?.headers['x-tenant'], 'a, b');
    assert.equal(second?.headers['user-agent'], 'mine');
    assert.equal(second?.headers['x-tenant'], 'a, b');
    assert.equal(third?.headers['x-tenant'], 'z');
    assert.equal(third?.headers['user-agent'], 'orders-app/1');
  });

  it('applies to fetch() too', async () => {
    await using c = client('orders').endpoints([upstream.address])
      .defaults({ basePath: '/api', headers: { authorization: 'Bearer t' } }).build();
    const res = await c.fetch('http://orders/orders/1', { headers: { accept: 'application/json' } });
    await res.arrayBuffer();
    assert.equal(upstream.requests[0]?.url, '/api/orders/1');
    assert.equal(upstream.requests[0]?.headers['authorization'], 'Bearer t');
    assert.equal(upstream.requests[0]?.headers['accept'], 'application/json');
    assert.equal(res.url, 'http://orders/orders/1');
  });

  it('is per builder: a later .defaults() replaces it, and a builder without it sends nothing extra', async () => {
    const base = client('orders').endpoints([upstream.address]);
    await using plain = base.build();
    await using replaced = base.defaults({ headers: { 'x-a': '1' } }).defaults({ basePath: '/b' }).build();
    await (await plain.request({ path: '/p' })).body.dump();
    await (await replaced.request({ path: '/p' })).body.dump();
    assert.deepEqual(upstream.requests.map((r) => [r.url, r.headers['x-a']]), [['/p', undefined], ['/b/p', undefined]]);
  });

  it('bad defaults: ERR_INVALID_CONFIG naming the option', () => {
    const b = client('orders').endpoints([upstream.address]);
    const named = (option: string) => (error: unknown): boolean =>
      isMeshkitError(error, 'ERR_INVALID_CONFIG') && (error.details as { option?: string }).option === option;
    assert.throws(() => b.defaults({ basePath: 'api' }), named('defaults.basePath'));
    assert.throws(() => b.defaults({ basePath: '/api?x=1' }), named('defaults.basePath'));
    assert.throws(() => b.defaults({ headers: { 'bad name': 'x' } }), named('defaults.headers.bad name'));
    assert.throws(() => b.defaults({ headers: { 'x-a': 'a\r\nb' } }), named('defaults.headers.x-a'));
    assert.throws(() => b.defaults({ headers: { 'x-a': 1 as never } }), named('defaults.headers.x-a'));
    assert.throws(() => b.defaults({ basepath: '/x' } as never), named('defaults.basepath'));
  });
});
