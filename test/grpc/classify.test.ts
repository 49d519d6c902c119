import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { client, roundRobin } from '../../src/index.js';
import { grpcErrorClassifier, grpcClient } from '../../src/grpc/index.js';
import { closedPort } from '../helpers/upstream.js';
import { GreeterService, isStatus, useGreeterFleet, type GrpcUpstream } from './support.js';

/** Server-supplied details that read like a refused connection: the server's own backend refused it, after the call arrived. */
const BACKEND_REFUSED = 'orders-db: connect ECONNREFUSED 10.0.0.9:5432';

describe('meshkit/grpc status classification', () => {
  const fleet = useGreeterFleet('greeter-classify', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');

  it('never reads a connect failure from the details of a status the server sent', () => {
    const classify = grpcErrorClassifier();
    for (const details of [BACKEND_REFUSED, 'No connection established', 'Name resolution failed for target orders']) {
      const fromServer = Object.assign(new Error(`14 UNAVAILABLE: ${details}`), { code: status.UNAVAILABLE, details, metadata: new Metadata() });
      const outcome = classify(fromServer);
      assert.equal(outcome.reason, 'status', details);
      assert.equal(outcome.blame, 'upstream');
    }
  });

  it('sends a method that is not idempotent once when the server answers UNAVAILABLE with connect wording', async () => {
    for (const upstream of fleet.upstreams) upstream.behaviour = { code: status.UNAVAILABLE, details: BACKEND_REFUSED };
    const greeter = grpcClient(fleet.client, GreeterService);
    await assert.rejects(greeter.sayHello({ name: 'order-42' }), (error: unknown) => {
      assert.equal((error as ServiceError).code, status.UNAVAILABLE);
      assert.equal((error as ServiceError).details, BACKEND_REFUSED);
      return true;
    });
    await assert.rejects(greeter.streamHellos({ name: 'order-43' }), isStatus(status.UNAVAILABLE));
    const seen = fleet.upstreams.flatMap((u: GrpcUpstream) => u.calls.map((call) => call.name));
    assert.deepEqual(seen.sort(), ['order-42', 'order-43'], 'each call reached a server exactly once');
  });

  it('still retries any method when its channel could not connect (nothing was sent)', async () => {
    const refused = await closedPort();
    const c = client('greeter-classify-refused').endpoints([`127.0.0.1:${refused}`, fleet.upstreams[0]!.address]).balancer(roundRobin())
      .retry({ attempts: 2, backoff: { base: '1ms', cap: '1ms' }, budget: false }).build();
    try {
      const greeter = grpcClient(c, GreeterService);
      for (let i = 0; i < 2; i++) {
        assert.equal((await greeter.sayHello({ name: 'x' })).port, fleet.upstreams[0]!.port);
        const stream = await greeter.streamHellos({ name: 'y', count: 1 });
        for await (const reply of stream) assert.equal((reply as { port: number }).port, fleet.upstreams[0]!.port);
      }
    } finally {
      await c.close();
    }
  });
});
