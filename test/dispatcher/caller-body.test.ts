// A caller's request body that fails, sent through meshkitDispatcher: the caller's doing, never the upstream's.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { client, isMeshkitError, type Client } from '../../src/index.js';
import { meshkitDispatcher, type MeshkitDispatcher } from '../../src/dispatcher/index.js';
import { endpointRecord } from '../helpers/body-upstream.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/** A proxied upload whose client hung up: one chunk, then the source fails. */
function failingStream(): Readable {
  let reads = 0;
  return new Readable({
    read() {
      if (reads++ === 0) this.push('partial');
      else this.destroy(new Error('caller body source failed'));
    },
  });
}

async function* failingIterable(): AsyncGenerator<Uint8Array> {
  yield Buffer.from('partial');
  throw new Error('caller body source failed');
}

describe('meshkitDispatcher: a request body that fails', () => {
  let upstream: Upstream;
  let orders: Client;
  let agent: Agent;
  let dispatcher: MeshkitDispatcher;
  const unhandled = trackUnhandledRejections();
  before(async () => {
    upstream = await startUpstream();
    orders = client('orders').endpoints([upstream.address])
      .circuitBreaker({ volumeThreshold: 2, errorThreshold: 0.5, resetTimeout: '30s' })
      .outlierDetection({ consecutiveGatewayFailures: 5 }).build();
    agent = new Agent();
    dispatcher = meshkitDispatcher({ routes: { 'http://orders': orders }, fallback: agent });
  });
  after(async () => {
    unhandled.stop();
    assert.deepEqual(unhandled.reasons, [], 'no unhandled rejection');
    await dispatcher.close();
    await agent.close();
    await orders.close();
    await upstream.close();
  });

  const bodies: readonly (readonly [string, () => Readable | AsyncIterable<Uint8Array>])[] = [
    ['a Readable that errors', failingStream], ['an async iterable that throws', failingIterable],
  ];
  for (const [kind, make] of bodies) {
    it(`undici.request with ${kind}: ERR_ABORTED (blame caller), the breaker stays closed`, async () => {
      for (let i = 0; i < 3; i++) {
        const error = await request('http://orders/upload', { method: 'POST', body: make() as Readable, dispatcher }).then(() => undefined, (e: unknown) => e);
        assert.ok(isMeshkitError(error, 'ERR_ABORTED'), `got ${String(error)}`);
        assert.equal(error.blame, 'caller');
        assert.equal(error.details['reason'], 'request-body');
        assert.equal((error.cause as Error).message, 'caller body source failed');
      }
      assert.equal(endpointRecord(orders).failures, 0, 'the endpoint was not charged');
      const res = await request('http://orders/healthy', { dispatcher });
      assert.equal(res.statusCode, 200, 'a good request still goes through');
      await res.body.dump();
      assert.equal(dispatcher.inFlight, 0);
    });
  }
});
