import assert from 'node:assert/strict';
import type http from 'node:http';
import { gzipSync } from 'node:zlib';
import { after, afterEach, before, describe, it } from 'node:test';
import { RequestError } from 'got';
import { client, isMeshkitError, type Client } from '../../src/index.js';
import { meshkitGot } from '../../src/got/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import { clientSocketsTo } from '../helpers/resources.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/** Answers the head and a first chunk at once, then sends nothing more (a stalled body); records when the client hangs up. */
function stallBody(upstream: Upstream, stalled: http.ServerResponse[], closedAt: number[], gzip = false): void {
  upstream.handler = (_req, res) => {
    stalled.push(res);
    res.on('close', () => closedAt.push(Date.now()));
    res.writeHead(200, { 'content-type': 'text/plain', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
    // gzip: the first 4 KiB of a larger compressed body, so the decompressor has bytes but no end.
    res.write(gzip ? gzipSync(Buffer.alloc(64 * 1024, 'a')).subarray(0, 4096) : 'first;');
  };
}

async function failure(promise: Promise<unknown>): Promise<{ error: RequestError; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RequestError, `a got RequestError, got ${String(error)}`);
    return { error, ms: Date.now() - started };
  }
  assert.fail('the request resolved');
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('meshkit/got bounds the response body, not only the head', () => {
  let upstream: Upstream;
  let stalled: http.ServerResponse[] = [];
  let closedAt: number[] = [];
  const unhandled = trackUnhandledRejections();
  before(async () => {
    upstream = await startUpstream();
  });
  afterEach(() => {
    for (const res of stalled) res.destroy();
    stalled = [];
    closedAt = [];
    upstream.handler = undefined;
  });
  after(async () => {
    unhandled.stop();
    assert.deepEqual(unhandled.reasons, []);
    await upstream.close();
  });

  const build = (timeout: { perTry?: string; total?: string } = {}): Client =>
    client('orders').endpoints([upstream.address]).retry(false).timeout(timeout).build();

  it('timeout.total cuts a stalled body: ERR_DEADLINE_EXCEEDED, and the socket is closed', async () => {
    stallBody(upstream, stalled, closedAt);
    await using c = build({ total: '300ms' });
    const { error, ms } = await failure(meshkitGot(c).get('v1/stalled').text());
    assert.equal(error.code, 'ERR_DEADLINE_EXCEEDED');
    assert.ok(isMeshkitError(error.cause, 'ERR_DEADLINE_EXCEEDED'), String(error.cause));
    assert.match(error.message, /deadline exceeded while reading the response body/);
    assert.ok(ms >= 250 && ms < 2000, `failed after ${ms} ms for a 300 ms deadline`);
    await waitFor('the server to see the client hang up', () => closedAt.length === 1);
    assert.deepEqual(clientSocketsTo(new Set([upstream.port])), []);
  });

  it('got\'s timeout.request is the deadline of the body too', async () => {
    stallBody(upstream, stalled, closedAt);
    await using c = build();
    const { error, ms } = await failure(meshkitGot(c).get('v1/stalled', { timeout: { request: 300 } }).json());
    assert.equal(error.code, 'ERR_DEADLINE_EXCEEDED');
    assert.ok(ms >= 250 && ms < 2000, `failed after ${ms} ms`);
    await waitFor('the server to see the client hang up', () => closedAt.length === 1);
  });

  it('a compressed body is cut the same way', async () => {
    stallBody(upstream, stalled, closedAt, true);
    await using c = build({ total: '300ms' });
    const { error } = await failure(meshkitGot(c).get('v1/stalled-gzip').text());
    assert.equal(error.code, 'ERR_DEADLINE_EXCEEDED');
    await waitFor('the server to see the client hang up', () => closedAt.length === 1);
  });

  it('the caller\'s signal stops the body: ERR_ABORTED, and the socket is closed', async () => {
    stallBody(upstream, stalled, closedAt);
    await using c = build();
    const controller = new AbortController();
    const pending = meshkitGot(c).get('v1/stalled', { signal: controller.signal }).text();
    await waitFor('the head to arrive', () => stalled.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    const { error, ms } = await failure(pending);
    assert.equal(error.code, 'ERR_ABORTED');
    assert.ok(ms < 1000, `aborted after ${ms} ms`);
    await waitFor('the server to see the client hang up', () => closedAt.length === 1);
    assert.deepEqual(clientSocketsTo(new Set([upstream.port])), []);
  });

  it('a body that receives nothing for timeout.perTry fails with ERR_TIMEOUT; one that keeps flowing does not', async () => {
    stallBody(upstream, stalled, closedAt);
    await using c = build({ perTry: '200ms' });
    const api = meshkitGot(c);
    const { error, ms } = await failure(api.get('v1/stalled').text());
    assert.equal(error.code, 'ERR_TIMEOUT');
    assert.ok(isMeshkitError(error.cause, 'ERR_TIMEOUT'));
    assert.ok(ms >= 150 && ms < 2000, `failed after ${ms} ms for a 200 ms per-try timeout`);
    await waitFor('the server to see the client hang up', () => closedAt.length === 1);

    // Ten chunks 60 ms apart: 600 ms in all, three times the per-try timeout, but never silent for 200 ms.
    upstream.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const timer = setInterval(() => {
        res.write(`${sent};`);
        if (++sent === 10) {
          clearInterval(timer);
          res.end();
        }
      }, 60);
      res.on('close', () => clearInterval(timer));
    };
    assert.equal(await api.get('v1/trickle').text(), '0;1;2;3;4;5;6;7;8;9;');
  });

  it('download streams (api.stream) are bound by the deadline too', async () => {
    stallBody(upstream, stalled, closedAt);
    await using c = build({ total: '300ms' });
    const started = Date.now();
    let received = '';
    await assert.rejects(async () => {
      for await (const chunk of meshkitGot(c).stream('v1/stalled')) received += String(chunk);
    }, (error: unknown) => (error as RequestError).code === 'ERR_DEADLINE_EXCEEDED');
    assert.equal(received, 'first;');
    assert.ok(Date.now() - started < 2000);
    await waitFor('the server to see the client hang up', () => closedAt.length === 1);
  });

  it('on a virtual clock: the stall is cut exactly at timeout.perTry without bytes, the deadline exactly at timeout.total', async () => {
    stallBody(upstream, stalled, closedAt);
    const clock = new VirtualClock();
    await using c = client('orders').endpoints([upstream.address]).retry(false).clock(clock).timeout({ perTry: '100ms', total: '1s' }).build();
    const api = meshkitGot(c);
    let failed: RequestError | undefined;
    const settle = (promise: Promise<unknown>): void => {
      failed = undefined;
      promise.then(() => assert.fail('resolved'), (error: RequestError) => {
        failed = error;
      });
    };
    const lastError = (): RequestError | undefined => failed; // read through a call: the callback sets it
    const realWait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    settle(api.get('v1/stalled').text());
    await waitFor('the head and first chunk to arrive', () => stalled.length === 1);
    await realWait(50); // got has the head: the body is being read
    await clock.advance(99);
    await realWait(50);
    assert.equal(lastError(), undefined, 'not cut before the per-try timeout');
    await clock.advance(1);
    await waitFor('the stall to be cut', () => lastError() !== undefined);
    assert.equal(lastError()?.code, 'ERR_TIMEOUT');

    // A body that keeps receiving bytes is no stall, however long it takes: only the deadline ends it.
    const writers: http.ServerResponse[] = [];
    upstream.handler = (_req, res) => {
      writers.push(res);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('start;');
    };
    settle(api.get('v1/flowing').text());
    await waitFor('the head to arrive', () => writers.length === 1);
    await realWait(50);
    const writeAndAdvance = async (ms: number): Promise<void> => {
      writers[0]!.write('more;');
      await realWait(30); // the bytes reach the client's socket
      await clock.advance(ms);
    };
    for (let i = 0; i < 11; i++) await writeAndAdvance(90);
    await writeAndAdvance(9);
    await realWait(50);
    assert.equal(lastError(), undefined, '999 virtual ms, never 100 without bytes, the deadline not reached');
    await clock.advance(1);
    await waitFor('the deadline to cut it', () => lastError() !== undefined);
    assert.equal(lastError()?.code, 'ERR_DEADLINE_EXCEEDED');
    for (const res of writers) res.destroy();
  });

  it('leaves a body that arrived in time alone, and keeps its socket for the next request', async () => {
    const clientPorts: number[] = [];
    upstream.handler = (req, res) => {
      clientPorts.push(req.socket.remotePort ?? 0);
      res.end('ok');
    };
    await using c = build({ perTry: '100ms', total: '300ms' });
    const api = meshkitGot(c);
    assert.equal(await api.get('v1/a').text(), 'ok');
    await new Promise((resolve) => setTimeout(resolve, 400)); // past the deadline and several per-try timeouts
    assert.equal(await api.get('v1/b').text(), 'ok');
    assert.equal(new Set(clientPorts).size, 1, 'one keep-alive socket, reused');
  });
});
