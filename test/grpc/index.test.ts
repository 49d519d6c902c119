import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadPackageDefinition, Metadata, status, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import {
  client, DEADLINE_HEADER, isMeshkitError, roundRobin, subscribe, type Client, type EjectionMessage,
} from '../../src/index.js';
import { grpcChannels, grpcClient } from '../../src/grpc/index.js';
import { closedPort } from '../helpers/upstream.js';
import {
  GreeterService, isStatus, MutableResolver, startGrpcUpstream, useGreeterFleet, type GrpcUpstream, type HelloReply,
} from './support.js';

/** The traceparent the telemetry stand-in adds to every attempt. */
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('meshkit/grpc', () => {
  const fleet = useGreeterFleet('greeter', TRACEPARENT);

  it('makes unary calls over a channel per endpoint, with trace context and the deadline in metadata', async () => {
    const greeter = grpcClient(fleet.client, GreeterService);
    const ports = new Set<number>();
    const metadata = new Metadata();
    metadata.set('x-caller', 'test');
    for (let i = 0; i < 4; i++) {
      const reply: HelloReply = await greeter.sayHello({ name: 'ada' }, { timeout: '2s', metadata });
      assert.equal(reply.message, 'hello ada');
      ports.add(reply.port);
    }
    assert.deepEqual([...ports].sort(), fleet.upstreams.map((u) => u.port).sort());
    assert.deepEqual(grpcChannels(fleet.client).openEndpoints.sort(), fleet.upstreams.map((u) => u.address).sort());
    for (const seen of fleet.upstreams.flatMap((u) => u.calls)) {
      assert.equal(seen.metadata['traceparent'], TRACEPARENT);
      assert.equal(seen.metadata['x-caller'], 'test');
      const header = Number(seen.metadata[DEADLINE_HEADER]);
      assert.ok(header > 0 && header <= 2000, `x-meshkit-deadline ${header}`);
      assert.ok(seen.deadlineMs > 0 && seen.deadlineMs <= 2000, `grpc deadline ${seen.deadlineMs}`);
    }
    // The caller's metadata object is not changed.
    assert.equal(metadata.get('traceparent').length, 0);
  });

  it('retries UNAVAILABLE on another endpoint for idempotent methods only', async () => {
    const [failing, healthy] = fleet.upstreams as [GrpcUpstream, GrpcUpstream];
    failing.behaviour = { code: status.UNAVAILABLE };
    const idempotent = grpcClient(fleet.client, GreeterService, { idempotentMethods: ['sayHello'] });
    for (let i = 0; i < 4; i++) assert.equal((await idempotent.sayHello({ name: 'x' })).port, healthy.port);
    assert.ok(failing.calls.length >= 1);

    failing.calls.length = healthy.calls.length = 0;
    const plain = grpcClient(fleet.client, GreeterService);
    let unavailable = 0;
    for (let i = 0; i < 4; i++) {
      try {
        await plain.sayHello({ name: 'x' });
      } catch (error) {
        assert.equal((error as ServiceError).code, status.UNAVAILABLE);
        unavailable++;
      }
    }
    // Not idempotent: each call was sent once, and the ones that met the failing endpoint failed.
    assert.equal(failing.calls.length + healthy.calls.length, 4);
    assert.equal(unavailable, failing.calls.length);
  });

  it('retries a refused connection for any method', async () => {
    const refused = await closedPort();
    const c = client('greeter').endpoints([`127.0.0.1:${refused}`, fleet.upstreams[0]!.address]).balancer(roundRobin()).build();
    try {
      const greeter = grpcClient(c, GreeterService);
      for (let i = 0; i < 3; i++) assert.equal((await greeter.sayHello({ name: 'x' })).port, fleet.upstreams[0]!.port);
    } finally {
      await c.close();
    }
  });

  it('passes application statuses through without retrying them', async () => {
    for (const upstream of fleet.upstreams) upstream.behaviour = { code: status.NOT_FOUND };
    const greeter = grpcClient(fleet.client, GreeterService, { idempotentMethods: ['sayHello'] });
    await assert.rejects(greeter.sayHello({ name: 'x' }), isStatus(status.NOT_FOUND));
    assert.equal(fleet.upstreams[0]!.calls.length + fleet.upstreams[1]!.calls.length, 1);
  });

  it('maps the call deadline to the gRPC deadline and fails with ERR_DEADLINE_EXCEEDED', async () => {
    for (const upstream of fleet.upstreams) upstream.behaviour = { delayMs: 1000 };
    const greeter = grpcClient(fleet.client, GreeterService, { idempotentMethods: ['sayHello'] });
    await assert.rejects(greeter.sayHello({ name: 'slow' }, { timeout: '150ms' }), (error: unknown) => isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'));
    const seen = fleet.upstreams.flatMap((u) => u.calls);
    assert.equal(seen.length, 1);
    assert.ok(seen[0]!.deadlineMs <= 150, `server saw ${seen[0]!.deadlineMs} ms`);
  });

  it('governs server streams up to the answer: retries a stream that fails before its first message', async () => {
    const [failing, healthy] = fleet.upstreams as [GrpcUpstream, GrpcUpstream];
    failing.behaviour = { code: status.UNAVAILABLE };
    const greeter = grpcClient(fleet.client, GreeterService, { idempotentMethods: ['streamHellos'] });
    for (let i = 0; i < 2; i++) {
      const stream = await greeter.streamHellos({ name: 'bo', count: 3 }, { timeout: '2s' });
      const messages: string[] = [];
      for await (const reply of stream) messages.push((reply as HelloReply).message);
      assert.deepEqual(messages, ['hello bo #0', 'hello bo #1', 'hello bo #2']);
    }
    assert.ok(failing.calls.length >= 1);
    assert.equal(healthy.calls.length, 2);
    assert.ok(healthy.calls.every((call) => call.metadata['traceparent'] === TRACEPARENT && call.deadlineMs <= 2000));
  });

  it('fails a stream whose first message misses the deadline with ERR_DEADLINE_EXCEEDED', async () => {
    for (const upstream of fleet.upstreams) upstream.behaviour = { delayMs: 1000 };
    const greeter = grpcClient(fleet.client, GreeterService);
    await assert.rejects(greeter.streamHellos({ name: 'late' }, { timeout: '100ms' }), (error: unknown) => isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'));
  });

  it('ejects an endpoint that keeps answering UNAVAILABLE (outlier detection reads it as a 503)', async () => {
    const [failing, healthy] = fleet.upstreams as [GrpcUpstream, GrpcUpstream];
    failing.behaviour = { code: status.UNAVAILABLE };
    const c = client('greeter-outlier').endpoints(fleet.upstreams.map((u) => u.address)).balancer(roundRobin())
      .retry({ attempts: 2, backoff: { base: '1ms', cap: '1ms' }, budget: false })
      .outlierDetection({ consecutiveGatewayFailures: 2, maxEjectionPercent: 50, baseEjectionTime: '30s' })
      .build();
    const ejections: EjectionMessage[] = [];
    const unsubscribe = subscribe('ejection', (message) => {
      if (message.service === 'greeter-outlier') ejections.push(message);
    });
    try {
      const greeter = grpcClient(c, GreeterService, { idempotentMethods: ['sayHello'] });
      for (let i = 0; i < 4; i++) await greeter.sayHello({ name: 'x' });
      assert.equal(ejections[0]?.endpoint.id, failing.address);
      const before = failing.calls.length;
      for (let i = 0; i < 6; i++) assert.equal((await greeter.sayHello({ name: 'x' })).port, healthy.port);
      assert.equal(failing.calls.length, before);
    } finally {
      unsubscribe();
      await c.close();
    }
  });

  it('opens channels on first use and closes them when endpoints leave and when the client closes', async () => {
    const extra = await startGrpcUpstream();
    const resolver = new MutableResolver([fleet.upstreams[0]!.address, extra.address]);
    const c = client('greeter-dynamic').discovery(resolver).balancer(roundRobin()).build();
    try {
      const channels = grpcChannels(c);
      const greeter = grpcClient(c, GreeterService, { channels });
      assert.deepEqual(channels.openEndpoints, []);
      await greeter.sayHello({ name: 'a' });
      await greeter.sayHello({ name: 'b' });
      assert.deepEqual(channels.openEndpoints.sort(), [fleet.upstreams[0]!.address, extra.address].sort());
      resolver.set([fleet.upstreams[0]!.address]);
      assert.deepEqual(channels.openEndpoints, [fleet.upstreams[0]!.address]);
      assert.equal((await greeter.sayHello({ name: 'c' })).port, fleet.upstreams[0]!.port);
      await c.close();
      assert.deepEqual(channels.openEndpoints, []);
    } finally {
      await c.close();
      await extra.close();
    }
  });

  it('works with proto-loader definitions and their idempotency_level', async () => {
    const proto = fileURLToPath(new URL('../../../test/grpc/fixtures/greeter.proto', import.meta.url));
    const loaded = loadPackageDefinition(loadSync(proto, { keepCase: false, defaults: true }));
    const Greeter = (loaded['test'] as Record<string, ServiceClientConstructor>)['Greeter'] as ServiceClientConstructor;
    // The JSON test servers cannot read protobuf: serve the proto service on a fresh server.
    const { Server, ServerCredentials } = await import('@grpc/grpc-js');
    const server = new Server();
    let sayHelloCalls = 0;
    server.addService(Greeter.service, {
      // Fails the first call: SayHello is NO_SIDE_EFFECTS in the proto, so meshkit retries it.
      SayHello: (call: { request: { name: string } }, callback: (e: { code: status } | null, r?: { message: string; port: number }) => void) =>
        (sayHelloCalls++ === 0 ? callback({ code: status.UNAVAILABLE }) : callback(null, { message: `hi ${call.request.name}`, port: 1 })),
      CreateGreeting: (_call: unknown, callback: (e: { code: status }) => void) => callback({ code: status.UNAVAILABLE }),
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e === null ? resolve(p) : reject(e))));
    const c = client('greeter-proto').endpoints([`127.0.0.1:${port}`]).retry({ attempts: 3, backoff: { base: '1ms', cap: '1ms' }, budget: false }).build();
    let attempts = 0;
    const unsubscribe = subscribe('attemptStart', (attempt) => {
      if (attempt.call.service === 'greeter-proto') attempts++;
    });
    try {
      const greeter = grpcClient(c, Greeter) as unknown as Record<string, (request: unknown) => Promise<{ message: string }>>;
      assert.equal((await greeter['SayHello']!({ name: 'proto' })).message, 'hi proto');
      assert.equal(attempts, 2);
      attempts = 0;
      // CreateGreeting has no idempotency level: its UNAVAILABLE is not retried.
      await assert.rejects(greeter['CreateGreeting']!({ name: 'x' }), isStatus(status.UNAVAILABLE));
      assert.equal(attempts, 1);
    } finally {
      unsubscribe();
      await c.close();
      server.forceShutdown();
    }
  });

  it('rejects bad options with ERR_INVALID_CONFIG', () => {
    const invalid = (error: unknown): boolean => isMeshkitError(error, 'ERR_INVALID_CONFIG');
    assert.throws(() => grpcClient({} as Client, GreeterService), invalid);
    assert.throws(() => grpcClient(fleet.client, 42 as never), invalid);
    assert.throws(() => grpcClient(fleet.client, GreeterService, { retryableCodes: [99] }), invalid);
    assert.throws(() => grpcClient(fleet.client, GreeterService, { idempotentMethods: 'sayHello' as never }), invalid);
  });
});
