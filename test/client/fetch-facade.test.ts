import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, isMeshkitError, type Client } from '../../src/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

describe('client.fetch', () => {
  let upstream: Upstream;
  let c: Client;
  before(async () => {
    upstream = await startUpstream();
    c = client('orders').endpoints([upstream.address]).build();
  });
  after(async () => {
    await c.close();
    await upstream.close();
  });

  it('returns a standard Response for a path or a service URL', async () => {
    for (const input of ['/v1/orders/42?x=1', 'http://orders/v1/orders/42?x=1', new URL('http://orders/v1/orders/42?x=1')]) {
      const res = await c.fetch(input);
      assert.ok(res instanceof Response);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain');
      assert.equal(await res.text(), `ok ${upstream.port}`);
      assert.equal(upstream.requests.at(-1)?.url, '/v1/orders/42?x=1');
    }
  });

  it('sends method, headers and every body type fetch accepts', async () => {
    const cases: [RequestInit['body'], string, string | undefined][] = [
      ['text', 'text', 'text/plain;charset=UTF-8'],
      [new URLSearchParams({ a: '1' }), 'a=1', 'application/x-www-form-urlencoded;charset=UTF-8'],
      [new TextEncoder().encode('bytes'), 'bytes', undefined],
      [new TextEncoder().encode('buffer').buffer, 'buffer', undefined],
      [new Blob(['blob'], { type: 'text/x-blob' }), 'blob', 'text/x-blob'],
      [new ReadableStream({ start(controller) { controller.enqueue(new TextEncoder().encode('stream')); controller.close(); } }), 'stream', undefined],
    ];
    for (const [body, expected, contentType] of cases) {
      const res = await c.fetch('/echo', { method: 'post', body, headers: { 'x-one': '1' }, duplex: 'half' } as RequestInit);
      await res.arrayBuffer();
      const seen = upstream.requests.at(-1);
      assert.equal(seen?.method, 'POST');
      assert.equal(seen?.body, expected);
      assert.equal(seen?.headers['x-one'], '1');
      if (contentType !== undefined) assert.equal(seen?.headers['content-type'], contentType);
    }
  });

  it('accepts a Request object', async () => {
    const res = await c.fetch(new Request('http://orders/from-request', { method: 'PUT', body: 'r', headers: { 'x-r': '1' } }));
    await res.text();
    const seen = upstream.requests.at(-1);
    assert.deepEqual([seen?.method, seen?.url, seen?.body, seen?.headers['x-r']], ['PUT', '/from-request', 'r', '1']);
  });

  it('streams the response body', async () => {
    upstream.handler = (_req, res) => {
      res.writeHead(200);
      res.write('first;');
      setTimeout(() => res.end('second'), 30);
    };
    try {
      const res = await c.fetch('/stream');
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      const first = await reader.read();
      assert.equal(decoder.decode(first.value), 'first;');
      let rest = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
      assert.equal(rest, 'second');
    } finally {
      upstream.handler = undefined;
    }
  });

  it('gives null bodies for 204 and HEAD', async () => {
    upstream.handler = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    try {
      const res = await c.fetch('/none');
      assert.equal(res.status, 204);
      assert.equal(res.body, null);
    } finally {
      upstream.handler = undefined;
    }
    const head = await c.fetch('/', { method: 'HEAD' });
    assert.equal(head.body, null);
  });

  it('follows redirects within the service, switching POST to GET on 303', async () => {
    upstream.handler = (req, res) => {
      if (req.url === '/old') res.writeHead(303, { location: '/new?y=2' }).end();
      else res.writeHead(200).end(`${req.method} ${req.url}`);
    };
    try {
      const followed = await c.fetch('/old', { method: 'POST', body: 'x' });
      assert.equal(await followed.text(), 'GET /new?y=2');
      const manual = await c.fetch('/old', { redirect: 'manual' });
      assert.equal(manual.status, 303);
      await assert.rejects(c.fetch('/old', { redirect: 'error' }), TypeError);
    } finally {
      upstream.handler = undefined;
    }
  });

  it('refuses a redirect to another origin with ERR_REDIRECT', async () => {
    upstream.handler = (_req, res) => {
      res.writeHead(302, { location: 'http://example.invalid/elsewhere' }).end();
    };
    try {
      await assert.rejects(c.fetch('/away'), (e: unknown) => isMeshkitError(e, 'ERR_REDIRECT'));
    } finally {
      upstream.handler = undefined;
    }
  });

  it('rejects with the signal reason on abort, like fetch', async () => {
    upstream.handler = () => {};
    try {
      const reason = new Error('stop');
      const controller = new AbortController();
      const pending = c.fetch('/hang', { signal: controller.signal });
      setTimeout(() => controller.abort(reason), 20);
      await assert.rejects(pending, (e: unknown) => e === reason);
    } finally {
      upstream.handler = undefined;
    }
  });

  it('rejects non-http inputs with ERR_INVALID_ARGUMENT', async () => {
    await assert.rejects(c.fetch('ftp://orders/x'), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_ARGUMENT'));
  });
});
