import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, isMeshkitError, type Client } from '../../src/index.js';
import { stallBody, streamBody, streamedText, watchServerSockets, type ServerSockets } from '../helpers/body-upstream.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';
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

  it('a ReadableStream body that errors rejects with ERR_ABORTED (blame caller) and opens no breaker', async () => {
    await using guarded = client('orders').endpoints([upstream.address])
      .circuitBreaker({ volumeThreshold: 2, errorThreshold: 0.5, resetTimeout: '30s' }).build();
    for (let i = 0; i < 3; i++) {
      const body = new ReadableStream({
        start(controller) { controller.enqueue(new TextEncoder().encode('partial')); },
        pull(controller) { controller.error(new Error('caller body source failed')); },
      });
      const error = await guarded.fetch('/upload', { method: 'POST', body, duplex: 'half' } as RequestInit).then(() => undefined, (e: unknown) => e);
      assert.ok(isMeshkitError(error, 'ERR_ABORTED'), `got ${String(error)}`);
      assert.equal(error.blame, 'caller');
      assert.equal(error.details['reason'], 'request-body');
      assert.equal((error.cause as Error).message, 'caller body source failed');
    }
    const res = await guarded.fetch('/healthy');
    assert.equal(res.status, 200, 'the breaker stayed closed');
    await res.text();
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

/** Reads a web body to its end with a reader; resolves with the error it ends with, or undefined. */
async function readerError(body: ReadableStream<Uint8Array> | null): Promise<unknown> {
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read());
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('client.fetch: the response body within the call\'s bounds', () => {
  let upstream: Upstream;
  let sockets: ServerSockets;
  const unhandled = trackUnhandledRejections();
  before(async () => {
    upstream = await startUpstream();
    sockets = watchServerSockets(upstream.server);
    upstream.handler = (req, res) => {
      if (req.url === '/stream') streamBody(res, 6, 100);
      else stallBody(res);
    };
  });
  after(async () => {
    unhandled.stop();
    assert.deepEqual(unhandled.reasons, [], 'no unhandled rejection');
    await upstream.close();
  });

  it('the total deadline errors response.text() and a reader with ERR_DEADLINE_EXCEEDED and closes the connection', async () => {
    await using c = client('orders').endpoints([upstream.address]).timeout({ total: '500ms' }).build();
    const reads: [string, (res: Response) => Promise<unknown>][] = [
      ['text()', (res) => res.text().then(() => undefined, (error: unknown) => error)],
      ['a reader', (res) => readerError(res.body)],
    ];
    for (const [how, read] of reads) {
      const closedBefore = sockets.closed;
      const started = performance.now();
      const res = await c.fetch('/stall');
      assert.equal(res.status, 200);
      const error = await read(res);
      const elapsed = performance.now() - started;
      assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'), `${how}: got ${String(error)}`);
      assert.deepEqual(error.details, { service: 'orders', endpoint: upstream.address, attempt: 1 });
      assert.ok(elapsed >= 450 && elapsed < 1500, `${how}: the read ended ${elapsed.toFixed(0)} ms after the call started`);
      await sockets.closedAtLeast(closedBefore + 1);
    }
  });

  it('the caller\'s abort rejects response.text() and a reader with the signal\'s reason, as fetch does', async () => {
    await using c = client('orders').endpoints([upstream.address]).outlierDetection({ consecutiveGatewayFailures: 5 }).build();
    const reads: [string, (res: Response) => Promise<unknown>][] = [
      ['text()', (res) => res.text().then(() => undefined, (error: unknown) => error)],
      ['a reader', (res) => readerError(res.body)],
    ];
    for (const [how, read] of reads) {
      const controller = new AbortController();
      const reason = new Error(`stop ${how}`);
      const closedBefore = sockets.closed;
      const res = await c.fetch('/stall', { signal: controller.signal });
      const started = performance.now();
      setTimeout(() => controller.abort(reason), 100);
      const error = await read(res);
      assert.equal(error, reason, `${how}: got ${String(error)}`);
      assert.ok(performance.now() - started < 1000);
      await sockets.closedAtLeast(closedBefore + 1);
    }
    assert.equal(c.endpoints().health[0]?.consecutiveGatewayFailures, 0, 'the caller\'s abort is not the endpoint\'s failure');
  });

  it('a body stalled past bodyTimeout fails with ERR_TIMEOUT', async () => {
    await using c = client('orders').endpoints([upstream.address]).timeout({ bodyTimeout: '200ms' }).build();
    const res = await c.fetch('/stall');
    const error = await res.text().then(() => undefined, (e: unknown) => e);
    assert.ok(isMeshkitError(error, 'ERR_TIMEOUT'), `got ${String(error)}`);
  });

  it('streams a body that keeps flowing within the bounds, whole', async () => {
    await using c = client('orders').endpoints([upstream.address]).timeout({ perTry: '300ms', total: '5s' }).build();
    const res = await c.fetch('/stream');
    const decoder = new TextDecoder();
    const chunks: string[] = [];
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) chunks.push(decoder.decode(chunk));
    assert.ok(chunks.length > 1, `the body came in ${chunks.length} chunks`);
    assert.equal(chunks.join(''), streamedText(6));
  });

  it('a reader that cancels the body closes the connection', async () => {
    await using c = client('orders').endpoints([upstream.address]).build();
    const closedBefore = sockets.closed;
    const res = await c.fetch('/stall');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'partial;');
    await reader.cancel();
    await sockets.closedAtLeast(closedBefore + 1);
  });
});
