import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { connectivityState, Metadata, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import {
  client, DEADLINE_HEADER, isMeshkitError, leastRequest, roundRobin, subscribe, type EjectionMessage,
} from '../../src/index.js';
import { grpcChannels, grpcClient } from '../../src/grpc/index.js';
import { clientSocketsTo } from '../helpers/resources.js';
import { closedPort } from '../helpers/upstream.js';
import { GreeterService, isStatus, tracingObserver, useGreeterFleet, type GrpcUpstream, type HelloReply, type HelloRequest } from './support.js';

/** The traceparent the telemetry stand-in adds to every attempt. */
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** Polls `predicate` every 10 ms for up to 5 s (generous: CI runs two files at once on two cores). */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(predicate(), `timed out waiting for ${what}`);
}

/** Reads a bidi stream to its end; rejects with the stream's error. */
async function readAll(stream: ClientDuplexStream<HelloRequest, HelloReply>): Promise<string[]> {
  const messages: string[] = [];
  for await (const reply of stream) messages.push((reply as HelloReply).message);
  return messages;
}

/** A request stream that counts what was taken from it. */
function counted(names: readonly string[]): { requests: AsyncIterable<HelloRequest>; taken: () => number } {
  let taken = 0;
  return {
    taken: () => taken,
    requests: (async function* () {
      for (const name of names) {
        taken++;
        yield { name };
      }
    })(),
  };
}

describe('meshkit/grpc request streams', () => {
  const fleet = useGreeterFleet('greeter-streams', TRACEPARENT);

  it('client streams: sends every request and resolves with the reply, with trace context and the deadline', async () => {
    const greeter = grpcClient(fleet.client, GreeterService);
    const metadata = new Metadata();
    metadata.set('x-caller', 'test');
    const ports = new Set<number>();
    for (let i = 0; i < 2; i++) {
      const reply: HelloReply = await greeter.collectHellos([{ name: 'a' }, { name: 'b' }, { name: 'c' }], { timeout: '2s', metadata });
      assert.equal(reply.message, 'hello a, b, c');
      ports.add(reply.port);
    }
    const { requests } = counted(['x', 'y']);
    assert.equal((await greeter.collectHellos(requests)).message, 'hello x, y');
    assert.equal(ports.size, 2, 'one call per endpoint (round robin)');
    const seen = fleet.upstreams.flatMap((u) => u.calls);
    assert.equal(seen.length, 3);
    assert.ok(seen.every((call) => call.method === 'collectHellos' && call.metadata['traceparent'] === TRACEPARENT));
    const withTimeout = seen.filter((call) => call.metadata['x-caller'] === 'test');
    assert.equal(withTimeout.length, 2);
    for (const call of withTimeout) {
      const header = Number(call.metadata[DEADLINE_HEADER]);
      assert.ok(header > 0 && header <= 2000, `x-meshkit-deadline ${header}`);
      assert.ok(call.deadlineMs > 0 && call.deadlineMs <= 2000, `grpc deadline ${call.deadlineMs}`);
    }
    assert.equal(fleet.client.activeCalls, 0);
  });

  it('bidi streams: hands over the stream and governs it until it ends (in flight, trace context, deadline)', async () => {
    const c = client('greeter-bidi').endpoints([fleet.upstreams[0]!.address]).balancer(leastRequest()).telemetry(tracingObserver(TRACEPARENT)).build();
    try {
      const greeter = grpcClient(c, GreeterService);
      const stream = await greeter.chatHellos({ timeout: '2s' });
      const replies = readAll(stream);
      stream.write({ name: 'a' });
      stream.write({ name: 'b' });
      await until(() => fleet.upstreams[0]!.received.length === 2, 'two requests');
      // Still open: the call is in flight and counts as the endpoint's load.
      assert.equal(c.activeCalls, 1);
      assert.equal(c.endpoints().load.find((l) => l.id === fleet.upstreams[0]!.address)?.inFlight, 1);
      stream.end();
      assert.deepEqual(await replies, ['hello a', 'hello b']);
      await until(() => c.activeCalls === 0, 'the call to end');
      assert.equal(c.endpoints().load.find((l) => l.id === fleet.upstreams[0]!.address)?.inFlight ?? 0, 0);
      const [seen] = fleet.upstreams[0]!.calls;
      assert.equal(seen?.method, 'chatHellos');
      assert.equal(seen.metadata['traceparent'], TRACEPARENT);
      const header = Number(seen.metadata[DEADLINE_HEADER]);
      assert.ok(header > 0 && header <= 2000, `x-meshkit-deadline ${header}`);
      assert.ok(seen.deadlineMs > 0 && seen.deadlineMs <= 2000, `grpc deadline ${seen.deadlineMs}`);
    } finally {
      await c.close();
    }
  });

  it('client streams: the deadline reaches the server and expiring it fails with ERR_DEADLINE_EXCEEDED', async () => {
    for (const upstream of fleet.upstreams) upstream.behaviour = { delayMs: 2000 };
    const greeter = grpcClient(fleet.client, GreeterService);
    await assert.rejects(greeter.collectHellos([{ name: 'slow' }], { timeout: '150ms' }), (error: unknown) => isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'));
    const seen = fleet.upstreams.flatMap((u) => u.calls);
    assert.equal(seen.length, 1);
    assert.ok(seen[0]!.deadlineMs > 0 && seen[0]!.deadlineMs <= 150, `server saw ${seen[0]!.deadlineMs} ms`);
    await until(() => fleet.upstreams.some((u) => u.cancelled.includes('collectHellos')), 'the server to see the call end');
  });

  it('bidi streams: the deadline reaches the server; expiring it ends the stream with DEADLINE_EXCEEDED and the call with ERR_DEADLINE_EXCEEDED', async () => {
    for (const upstream of fleet.upstreams) upstream.behaviour = { delayMs: 2000 };
    const ends: unknown[] = [];
    const unsubscribe = subscribe('callEnd', (message) => {
      if (message.call.service === 'greeter-streams') ends.push(message.error);
    });
    try {
      const greeter = grpcClient(fleet.client, GreeterService);
      const stream = await greeter.chatHellos({ timeout: '150ms' });
      stream.write({ name: 'late' });
      await assert.rejects(readAll(stream), isStatus(status.DEADLINE_EXCEEDED));
      const seen = fleet.upstreams.flatMap((u) => u.calls);
      assert.equal(seen.length, 1);
      assert.ok(seen[0]!.deadlineMs > 0 && seen[0]!.deadlineMs <= 150, `server saw ${seen[0]!.deadlineMs} ms`);
      await until(() => ends.length === 1, 'the call to end');
      assert.ok(isMeshkitError(ends[0], 'ERR_DEADLINE_EXCEEDED'), `call ended with ${String(ends[0])}`);
    } finally {
      unsubscribe();
    }
  });

  it('never sends a request stream twice: UNAVAILABLE is not retried, even when the caller says idempotent', async () => {
    const [failing, healthy] = fleet.upstreams as [GrpcUpstream, GrpcUpstream];
    failing.behaviour = { code: status.UNAVAILABLE };
    const greeter = grpcClient(fleet.client, GreeterService, { idempotentMethods: ['collectHellos', 'chatHellos'] });
    let unavailable = 0;
    for (let i = 0; i < 4; i++) {
      try {
        await greeter.collectHellos([{ name: `c${i}` }], { idempotent: true });
      } catch (error) {
        assert.equal((error as ServiceError).code, status.UNAVAILABLE);
        unavailable++;
      }
      try {
        const stream = await greeter.chatHellos({ idempotent: true });
        stream.end({ name: `b${i}` });
        await readAll(stream);
      } catch (error) {
        assert.equal((error as ServiceError).code, status.UNAVAILABLE);
        unavailable++;
      }
    }
    assert.equal(failing.calls.length + healthy.calls.length, 8, 'each call sent once');
    assert.equal(unavailable, failing.calls.length);
    assert.ok(unavailable >= 1);
  });

  it('retries a refused connection before anything was taken from the request stream', async () => {
    const refused = await closedPort();
    const healthy = fleet.upstreams[0]!;
    const c = client('greeter-refused').endpoints([`127.0.0.1:${refused}`, healthy.address]).balancer(roundRobin())
      .retry({ attempts: 2, backoff: { base: '1ms', cap: '1ms' }, budget: false }).build();
    let attempts = 0;
    const unsubscribe = subscribe('attemptStart', (attempt) => {
      if (attempt.call.service === 'greeter-refused') attempts++;
    });
    try {
      const greeter = grpcClient(c, GreeterService);
      for (let i = 0; i < 3; i++) {
        const { requests, taken } = counted([`n${i}`, `m${i}`]);
        const reply = await greeter.collectHellos(requests);
        assert.equal(reply.port, healthy.port);
        assert.equal(reply.message, `hello n${i}, m${i}`);
        assert.equal(taken(), 2);
        const stream = await greeter.chatHellos();
        stream.end({ name: `b${i}` });
        assert.deepEqual(await readAll(stream), [`hello b${i}`]);
      }
      assert.ok(attempts > 6, `some attempts met the refused endpoint (${attempts} attempts for 6 calls)`);
      // Each request reached the server exactly once.
      assert.deepEqual(healthy.received, ['n0', 'm0', 'b0', 'n1', 'm1', 'b1', 'n2', 'm2', 'b2']);
    } finally {
      unsubscribe();
      await c.close();
    }
  });

  it('fails with ERR_DEADLINE_EXCEEDED while the connection is not ready, before anything was taken from the caller', async () => {
    // A real TCP listener that accepts and never speaks HTTP/2: the channel stays CONNECTING.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const c = client('greeter-silent').endpoints([`127.0.0.1:${port}`]).build();
    try {
      const greeter = grpcClient(c, GreeterService);
      const { requests, taken } = counted(['x']);
      await assert.rejects(greeter.collectHellos(requests, { timeout: '150ms' }), (error: unknown) => isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'));
      assert.equal(taken(), 0);
      await assert.rejects(greeter.chatHellos({ timeout: '150ms' }), (error: unknown) => isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'));
    } finally {
      await c.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('counts UNAVAILABLE request streams against the endpoint (outlier detection ejects it)', async () => {
    const [failing, healthy] = fleet.upstreams as [GrpcUpstream, GrpcUpstream];
    failing.behaviour = { code: status.UNAVAILABLE };
    for (const kind of ['client', 'bidi'] as const) {
      const service = `greeter-outlier-${kind}`;
      const c = client(service).endpoints(fleet.upstreams.map((u) => u.address)).balancer(roundRobin())
        .outlierDetection({ consecutiveGatewayFailures: 2, maxEjectionPercent: 50, baseEjectionTime: '30s' })
        .build();
      const ejections: EjectionMessage[] = [];
      const unsubscribe = subscribe('ejection', (message) => {
        if (message.service === service) ejections.push(message);
      });
      const greeter = grpcClient(c, GreeterService);
      const once = async (): Promise<number> => {
        if (kind === 'client') return (await greeter.collectHellos([{ name: 'x' }])).port;
        const stream = await greeter.chatHellos();
        stream.end({ name: 'x' });
        const replies: HelloReply[] = [];
        for await (const reply of stream) replies.push(reply as HelloReply);
        return replies[0]?.port ?? 0;
      };
      try {
        for (let i = 0; i < 4; i++) await once().catch((error: unknown) => assert.equal((error as ServiceError).code, status.UNAVAILABLE));
        await until(() => ejections.length > 0, `${kind}: an ejection`);
        assert.equal(ejections[0]?.endpoint.id, failing.address);
        const before = failing.calls.length;
        for (let i = 0; i < 4; i++) assert.equal(await once(), healthy.port);
        assert.equal(failing.calls.length, before);
      } finally {
        unsubscribe();
        await c.close();
      }
    }
  });

  it('client streams: options.signal cancels the call while requests are still being written', async () => {
    const controller = new AbortController();
    const aborted = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
    let finished = false;
    const requests = (async function* () {
      try {
        yield { name: 'first' };
        await aborted;
        yield { name: 'never' };
      } finally {
        finished = true;
      }
    })();
    const greeter = grpcClient(fleet.client, GreeterService);
    const call = greeter.collectHellos(requests, { signal: controller.signal });
    await until(() => fleet.upstreams.some((u) => u.received.includes('first')), 'the first request');
    controller.abort(new Error('enough'));
    await assert.rejects(call, (error: unknown) => isMeshkitError(error, 'ERR_ABORTED'));
    await until(() => fleet.upstreams.some((u) => u.cancelled.includes('collectHellos')), 'the server to see the cancellation');
    await until(() => finished, 'the request iterator to be closed');
    assert.ok(!fleet.upstreams.some((u) => u.received.includes('never')));
    assert.equal(fleet.client.activeCalls, 0);
  });

  it('client streams: a failing request iterable cancels the call and does not count against the endpoint', async () => {
    const attemptEnds: string[] = [];
    const unsubscribe = subscribe('attemptEnd', (attempt) => {
      if (attempt.call.service === 'greeter-streams') attemptEnds.push(attempt.outcome?.reason ?? '');
    });
    try {
      const requests = (async function* () {
        yield { name: 'one' };
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('source broke');
      })();
      const greeter = grpcClient(fleet.client, GreeterService);
      await assert.rejects(greeter.collectHellos(requests), /source broke/);
      assert.deepEqual(attemptEnds, ['aborted']);
      await until(() => fleet.upstreams.some((u) => u.cancelled.includes('collectHellos')), 'the server to see the cancellation');
    } finally {
      unsubscribe();
    }
  });

  it('bidi streams: options.signal cancels an open stream', async () => {
    const controller = new AbortController();
    const greeter = grpcClient(fleet.client, GreeterService);
    const stream = await greeter.chatHellos({ signal: controller.signal });
    const errors: ServiceError[] = [];
    stream.on('error', (error: ServiceError) => errors.push(error));
    stream.write({ name: 'a' });
    const [first] = await new Promise<HelloReply[]>((resolve) => stream.once('data', (reply: HelloReply) => resolve([reply])));
    assert.equal(first?.message, 'hello a');
    assert.equal(fleet.client.activeCalls, 1);
    controller.abort();
    await until(() => errors.length === 1, 'the stream to fail');
    assert.equal(errors[0]?.code, status.CANCELLED);
    await until(() => fleet.upstreams.some((u) => u.cancelled.includes('chatHellos')), 'the server to see the cancellation');
    await until(() => fleet.client.activeCalls === 0, 'the call to end');
  });

  it('bidi streams: a stream the caller cancels ends the call as aborted, not against the endpoint', async () => {
    const attemptEnds: string[] = [];
    const unsubscribe = subscribe('attemptEnd', (attempt) => {
      if (attempt.call.service === 'greeter-streams') attemptEnds.push(attempt.outcome?.reason ?? '');
    });
    try {
      const greeter = grpcClient(fleet.client, GreeterService);
      const stream = await greeter.chatHellos();
      stream.on('error', () => {});
      stream.write({ name: 'a' });
      await until(() => fleet.upstreams.some((u) => u.received.includes('a')), 'the stream to start');
      stream.cancel();
      await until(() => attemptEnds.length === 1, 'the call to end');
      assert.deepEqual(attemptEnds, ['aborted']);
      assert.equal(fleet.client.activeCalls, 0);
    } finally {
      unsubscribe();
    }
  });

  it('leaves no channel or socket open after client.close(), cancelling a stream that outlives the drain', async () => {
    const c = client('greeter-close').endpoints(fleet.upstreams.map((u) => u.address)).balancer(roundRobin()).build();
    const channels = grpcChannels(c);
    const greeter = grpcClient(c, GreeterService, { channels });
    assert.equal((await greeter.collectHellos([{ name: 'a' }])).message, 'hello a');
    const stream = await greeter.chatHellos();
    const errors: ServiceError[] = [];
    stream.on('error', (error: ServiceError) => errors.push(error));
    stream.write({ name: 'b' });
    await until(() => fleet.upstreams.some((u) => u.received.includes('b')), 'the stream to start');
    const opened = c.endpoints().endpoints.map((endpoint) => channels.get(endpoint));
    assert.equal(channels.openEndpoints.length, 2);
    await c.close({ timeout: '100ms' });
    await until(() => errors.length === 1, 'the stream to fail');
    assert.equal(errors[0]?.code, status.CANCELLED);
    assert.deepEqual(channels.openEndpoints, []);
    for (const channel of opened) assert.equal(channel.getChannel().getConnectivityState(false), connectivityState.SHUTDOWN);
    await until(() => clientSocketsTo(new Set(fleet.upstreams.map((u) => u.port))).length === 0, 'client sockets to close');
    await assert.rejects(greeter.collectHellos([{ name: 'late' }]), (error: unknown) => isMeshkitError(error, 'ERR_CLIENT_CLOSED'));
  });

  it('rejects a request stream that is not iterable with ERR_INVALID_ARGUMENT', async () => {
    const greeter = grpcClient(fleet.client, GreeterService);
    await assert.rejects(greeter.collectHellos(42 as never), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_ARGUMENT'));
    await assert.rejects(greeter.collectHellos({ name: 'x' } as never), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_ARGUMENT'));
  });
});
