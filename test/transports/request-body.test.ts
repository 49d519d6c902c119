import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { client, isMeshkitError, type Client, type MeshkitError } from '../../src/index.js';
import type { HttpBody } from '../../src/transports/http-types.js';
import { endpointRecord, readError } from '../helpers/body-upstream.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/** A body that sends one chunk, then fails as a proxied upload whose client hung up does. */
function failingStream(): Readable {
  let reads = 0;
  return new Readable({
    read() {
      if (reads++ === 0) this.push('partial');
      else this.destroy(Object.assign(new Error('caller body source failed'), { code: 'ECONNRESET' }));
    },
  });
}

async function* failingIterable(): AsyncGenerator<Uint8Array> {
  yield Buffer.from('partial');
  throw new Error('caller body source failed');
}

function* failingSyncIterable(): Generator<Uint8Array> {
  yield Buffer.from('partial');
  throw new Error('caller body source failed');
}

/** A stream body that ends early without an error (its source was destroyed). */
function closedStream(): Readable {
  let reads = 0;
  return new Readable({
    read() {
      if (reads++ === 0) this.push('partial');
      else this.destroy();
    },
  });
}

/** A breaker that opens after two upstream failures, and an outlier detector that counts them. */
function guarded(upstream: Upstream): Client {
  return client('uploads').endpoints([upstream.address])
    .circuitBreaker({ volumeThreshold: 2, errorThreshold: 0.5, resetTimeout: '30s' })
    .outlierDetection({ consecutiveGatewayFailures: 5 }).build();
}

function assertCallersBody(error: unknown, message = 'caller body source failed'): asserts error is MeshkitError {
  assert.ok(isMeshkitError(error, 'ERR_ABORTED'), `got ${String(error)}`);
  assert.equal(error.blame, 'caller');
  assert.equal(error.details['reason'], 'request-body');
  assert.equal(error.attempts, 1, 'not retried: the body was consumed');
  if (message !== '') assert.equal((error.cause as Error).message, message);
  assert.match(error.message, /request body/);
}

describe('undici transport: a request body that fails is the caller\'s doing', () => {
  let upstream: Upstream;
  const unhandled = trackUnhandledRejections();
  before(async () => {
    upstream = await startUpstream();
  });
  after(async () => {
    unhandled.stop();
    assert.deepEqual(unhandled.reasons, [], 'no unhandled rejection');
    await upstream.close();
  });

  for (const [kind, make, message] of [
    ['a stream that errors', failingStream, 'caller body source failed'],
    ['a stream destroyed without an error', closedStream, ''],
    ['an async iterable that throws', failingIterable, 'caller body source failed'],
    ['a sync iterable that throws', failingSyncIterable, 'caller body source failed'],
  ] as const) {
    it(`${kind}: ERR_ABORTED (blame caller, the body's error as cause), no breaker or endpoint charged, not retried`, async () => {
      await using c = guarded(upstream);
      for (let i = 0; i < 3; i++) {
        const error = await readError(c.request({ path: '/upload', method: 'POST', body: make() as HttpBody, idempotent: true }));
        assertCallersBody(error, message);
      }
      assert.equal(endpointRecord(c).failures, 0, 'the endpoint was not charged');
      const res = await c.request({ path: '/healthy' });
      assert.equal(res.statusCode, 200, 'the breaker stayed closed');
      await res.body.dump();
    });
  }

  it('a body that fails after the response headers: the response body\'s reader gets ERR_ABORTED, the endpoint is not charged', async () => {
    const early = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('answered before the upload ended;');
    });
    await new Promise<void>((resolve) => early.listen(0, '127.0.0.1', resolve));
    try {
      await using c = client('uploads').endpoints([`127.0.0.1:${(early.address() as AddressInfo).port}`])
        .outlierDetection({ consecutiveGatewayFailures: 5 }).build();
      let reads = 0;
      const body = new Readable({
        read() {
          if (reads++ === 0) this.push('partial');
          else setTimeout(() => this.destroy(new Error('caller body source failed')), 50);
        },
      });
      const res = await c.request({ path: '/upload', method: 'POST', body });
      assert.equal(res.statusCode, 200);
      const error = await readError(res.body.text());
      assert.ok(isMeshkitError(error, 'ERR_ABORTED'), `got ${String(error)}`);
      assert.equal(error.blame, 'caller');
      assert.equal(error.details['reason'], 'request-body');
      assert.equal(endpointRecord(c).failures, 0, 'the endpoint was not charged');
    } finally {
      early.closeAllConnections();
      await new Promise<void>((resolve) => early.close(() => resolve()));
    }
  });

  it('a connection the upstream resets while a stream body is sent is still the upstream\'s', async () => {
    const resetting = http.createServer((req) => {
      req.once('data', () => req.socket.destroy());
    });
    await new Promise<void>((resolve) => resetting.listen(0, '127.0.0.1', resolve));
    try {
      await using c = client('uploads').endpoints([`127.0.0.1:${(resetting.address() as AddressInfo).port}`]).build();
      const body = new Readable({
        read() {
          setTimeout(() => this.push('chunk;'), 10);
        },
      });
      const error = await readError(c.request({ path: '/upload', method: 'POST', body }));
      assert.ok(isMeshkitError(error, 'ERR_UPSTREAM'), `got ${String(error)}`);
      assert.equal(error.blame, 'upstream');
      body.destroy();
    } finally {
      resetting.closeAllConnections();
      await new Promise<void>((resolve) => resetting.close(() => resolve()));
    }
  });

  it('string, byte and iterable bodies that do not fail are sent as before', async () => {
    await using c = client('uploads').endpoints([upstream.address]).build();
    const bodies: HttpBody[] = ['text', Buffer.from('bytes'), Readable.from(['str', 'eam']), (async function* () {
      yield Buffer.from('iter');
      yield Buffer.from('able');
    })()];
    for (const body of bodies) {
      const res = await c.request({ path: '/echo', method: 'POST', body });
      await res.body.dump();
      assert.equal(res.statusCode, 200);
    }
    assert.deepEqual(upstream.requests.slice(-4).map((r) => r.body), ['text', 'bytes', 'stream', 'iterable']);
  });
});
