import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, isMeshkitError, subscribe, type Client } from '../../src/index.js';
import { grpcClient } from '../../src/grpc/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import { GreeterService, startGrpcUpstream, type GrpcUpstream } from './support.js';

/**
 * On a virtual clock that never moves, meshkit's own deadline timer never
 * fires: grpc-js's (wall-clock) deadline timer always wins the race.
 */
function frozenClient(name: string, upstream: GrpcUpstream): Client {
  return client(name).endpoints([upstream.address]).clock(new VirtualClock()).timeout({ total: '10s' })
    .circuitBreaker({ volumeThreshold: 1, errorThreshold: 0.5, resetTimeout: '30s' }).build();
}

describe("meshkit/grpc: the caller's deadline run out by grpc-js's timer", () => {
  let upstream: GrpcUpstream;
  before(async () => {
    upstream = await startGrpcUpstream();
  });
  after(() => upstream.close());

  for (const kind of ['unary', 'client stream'] as const) {
    it(`${kind}: is the caller's (ERR_DEADLINE_EXCEEDED blame caller, a caller's deadline outcome), and opens no breaker`, async () => {
      const name = `greeter-frozen-${kind.replace(' ', '-')}`;
      const c = frozenClient(name, upstream);
      const outcomes: string[] = [];
      const unsubscribe = subscribe('attemptEnd', (attempt) => {
        if (attempt.call.service === name) outcomes.push(`${attempt.outcome?.reason}/${attempt.outcome?.blame}`);
      });
      try {
        const greeter = grpcClient(c, GreeterService);
        upstream.behaviour = { delayMs: 2000 };
        for (let i = 0; i < 2; i++) {
          const call = kind === 'unary'
            ? greeter.sayHello({ name: 'slow' }, { timeout: '80ms' })
            : greeter.collectHellos([{ name: 'slow' }], { timeout: '80ms' });
          await assert.rejects(call, (error: unknown) => {
            assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'), `rejected with ${String(error)}`);
            assert.equal(error.blame, 'caller');
            return true;
          });
        }
        assert.deepEqual(outcomes, ['deadline/caller', 'deadline/caller']);
        upstream.behaviour = {};
        assert.equal((await greeter.sayHello({ name: 'fast' })).message, 'hello fast', 'the breaker stayed closed');
      } finally {
        upstream.behaviour = {};
        unsubscribe();
        await c.close();
      }
    });
  }

  it("bidi: the stream ends with DEADLINE_EXCEEDED and the call with the caller's deadline, opening no breaker", async () => {
    const c = frozenClient('greeter-frozen-bidi', upstream);
    const ends: string[] = [];
    const unsubscribe = subscribe('callEnd', (message) => {
      const error = message.error;
      if (message.call.service === 'greeter-frozen-bidi') ends.push(isMeshkitError(error) ? `${error.code}/${error.blame}/${message.call.current?.outcome?.reason}` : String(error));
    });
    try {
      const greeter = grpcClient(c, GreeterService);
      for (let i = 0; i < 2; i++) {
        const stream = await greeter.chatHellos({ timeout: '80ms' });
        stream.on('data', () => {});
        await new Promise((resolve) => stream.once('error', resolve));
        for (let wait = 0; wait < 200 && ends.length === i; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual(ends, ['ERR_DEADLINE_EXCEEDED/caller/deadline', 'ERR_DEADLINE_EXCEEDED/caller/deadline']);
      assert.equal((await greeter.sayHello({ name: 'fast' })).message, 'hello fast', 'the breaker stayed closed');
    } finally {
      unsubscribe();
      await c.close();
    }
  });
});
