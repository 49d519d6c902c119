import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isMeshkitError, subscribe, client, type Client } from '../../src/index.js';
import { grpcClient } from '../../src/grpc/index.js';
import { GreeterService, startGrpcUpstream, type GrpcUpstream, type HelloRequest } from './support.js';

/** Polls `predicate` every 10 ms for up to 5 s. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(predicate(), `timed out waiting for ${what}`);
}

/** A client whose breaker opens after two failures in two calls. */
function breakerClient(name: string, upstream: GrpcUpstream): Client {
  return client(name).endpoints([upstream.address]).circuitBreaker({ volumeThreshold: 2, errorThreshold: 0.5, resetTimeout: '30s' }).build();
}

describe("meshkit/grpc request streams: the caller's failures move no breaker", () => {
  let upstream: GrpcUpstream;
  before(async () => {
    upstream = await startGrpcUpstream();
  });
  after(() => upstream.close());

  it('client streams: a failing request iterable rejects with its own error and the call ends as ERR_ABORTED, blame caller', async () => {
    const c = breakerClient('greeter-iterable-breaker', upstream);
    const ends: unknown[] = [];
    const unsubscribe = subscribe('callEnd', (message) => {
      if (message.call.service === 'greeter-iterable-breaker') ends.push(message.error);
    });
    try {
      const greeter = grpcClient(c, GreeterService);
      for (let i = 0; i < 3; i++) {
        const broken = new Error(`source broke ${i}`);
        const requests = (function* (): Generator<HelloRequest> {
          yield { name: 'one' };
          throw broken;
        })();
        await assert.rejects(greeter.collectHellos(requests), (error: unknown) => error === broken);
      }
      assert.equal(ends.length, 3);
      for (const end of ends) {
        assert.ok(isMeshkitError(end, 'ERR_ABORTED'), `call ended with ${String(end)}`);
        assert.equal(end.blame, 'caller');
      }
      assert.equal((await greeter.sayHello({ name: 'after' })).message, 'hello after', 'the breaker stayed closed');
    } finally {
      unsubscribe();
      await c.close();
    }
  });

  it('bidi streams: streams the caller cancels do not open the breaker', async () => {
    const c = breakerClient('greeter-cancel-breaker', upstream);
    try {
      const greeter = grpcClient(c, GreeterService);
      for (let i = 0; i < 3; i++) {
        const stream = await greeter.chatHellos();
        stream.on('error', () => {});
        stream.write({ name: `cancel-${i}` });
        await new Promise((resolve) => stream.once('data', resolve));
        stream.cancel();
        await until(() => c.activeCalls === 0, 'the call to end');
      }
      assert.equal((await greeter.sayHello({ name: 'after' })).message, 'hello after', 'the breaker stayed closed');
    } finally {
      await c.close();
    }
  });
});
