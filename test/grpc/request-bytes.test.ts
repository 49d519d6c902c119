import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { client, isMeshkitError, subscribe, type Client } from '../../src/index.js';
import { grpcClient } from '../../src/grpc/index.js';
import { GreeterService, startGrpcUpstream, type GrpcUpstream, type HelloRequest } from './support.js';

/** JSON cannot serialise a BigInt: the method's requestSerialize throws on this message. */
const UNSERIALIZABLE = { name: 10n } as unknown as HelloRequest;

/** A client that retries (3 attempts) and whose breaker opens after two failures in two calls. */
function breakerClient(name: string, upstream: GrpcUpstream): Client {
  return client(name).endpoints([upstream.address]).retry({ attempts: 3, backoff: { base: '1ms', cap: '1ms' }, budget: false })
    .circuitBreaker({ volumeThreshold: 2, errorThreshold: 0.5, resetTimeout: '30s' }).build();
}

/** The caller's doing: ERR_INVALID_ARGUMENT, blame caller, the serialiser's error as cause. */
function invalidRequest(argument: string) {
  return (error: unknown): boolean => {
    assert.ok(isMeshkitError(error, 'ERR_INVALID_ARGUMENT'), `rejected with ${String(error)}`);
    assert.equal(error.blame, 'caller');
    assert.equal(error.details['argument'], argument);
    assert.ok(error.cause instanceof TypeError, 'the serialiser\'s error is the cause');
    return true;
  };
}

describe('meshkit/grpc: request messages the method cannot serialise', () => {
  let upstream: GrpcUpstream;
  before(async () => {
    upstream = await startGrpcUpstream();
  });
  after(() => upstream.close());

  it('unary and server streams: reject with ERR_INVALID_ARGUMENT, never sent, retried or counted', async () => {
    const c = breakerClient('greeter-unserializable', upstream);
    try {
      const greeter = grpcClient(c, GreeterService, { idempotentMethods: ['sayHello', 'streamHellos'] });
      upstream.calls.length = 0;
      for (let i = 0; i < 3; i++) {
        await assert.rejects(greeter.sayHello(UNSERIALIZABLE), invalidRequest('request'));
        await assert.rejects(greeter.streamHellos(UNSERIALIZABLE), invalidRequest('request'));
      }
      assert.equal(upstream.calls.length, 0, 'nothing reached the server');
      assert.equal((await greeter.sayHello({ name: 'good' })).message, 'hello good', 'the breaker stayed closed');
    } finally {
      await c.close();
    }
  });

  it('client streams: a message that cannot be serialised cancels the call with ERR_INVALID_ARGUMENT, not counted', async () => {
    const c = breakerClient('greeter-unserializable-stream', upstream);
    const outcomes: string[] = [];
    const unsubscribe = subscribe('attemptEnd', (attempt) => {
      if (attempt.call.service === 'greeter-unserializable-stream') outcomes.push(`${attempt.outcome?.reason}/${attempt.outcome?.blame}`);
    });
    try {
      const greeter = grpcClient(c, GreeterService);
      for (let i = 0; i < 3; i++) await assert.rejects(greeter.collectHellos([{ name: 'fine' }, UNSERIALIZABLE]), invalidRequest('requests'));
      assert.deepEqual(outcomes, ['refused/caller', 'refused/caller', 'refused/caller']);
      assert.equal((await greeter.sayHello({ name: 'good' })).message, 'hello good', 'the breaker stayed closed');
    } finally {
      unsubscribe();
      await c.close();
    }
  });

  it('bidi streams: the stream fails with INTERNAL, the call ends as the caller\'s ERR_INVALID_ARGUMENT, not counted', async () => {
    const c = breakerClient('greeter-unserializable-bidi', upstream);
    const ends: unknown[] = [];
    const unsubscribe = subscribe('callEnd', (message) => {
      if (message.call.service === 'greeter-unserializable-bidi') ends.push(message.error);
    });
    try {
      const greeter = grpcClient(c, GreeterService);
      for (let i = 0; i < 3; i++) {
        const stream = await greeter.chatHellos();
        const failed = new Promise<ServiceError>((resolve) => stream.once('error', resolve));
        stream.on('data', () => {});
        stream.write(UNSERIALIZABLE);
        assert.equal((await failed).code, status.INTERNAL);
        for (let wait = 0; wait < 200 && ends.length === i; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(ends.length, 3);
      for (const end of ends) invalidRequest('requests')(end);
      assert.equal((await greeter.sayHello({ name: 'good' })).message, 'hello good', 'the breaker stayed closed');
    } finally {
      unsubscribe();
      await c.close();
    }
  });
});
