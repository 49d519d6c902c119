// client.onRetry / onEndpointsChanged / onEjection / onBreakerState / onDiscoveryError:
// typed, per client (two clients of one service name do not see each other's news),
// free while nobody listens, and a throwing listener never breaks a call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  channels, client, isMeshkitError, roundRobin, toEndpoint,
  type BreakerStateEvent, type DiscoveryErrorEvent, type EjectionEvent, type Endpoint, type EndpointsChangedEvent,
  type Resolver, type ResolverListener, type RetryEvent,
} from '../../src/index.js';
import { startUpstreams } from '../helpers/upstream.js';

/** A resolver the test drives: push a set or an error to every subscriber. */
function pushedResolver(initial: readonly string[]): Resolver & { push(list: readonly string[]): void; fail(error: Error): void } {
  const listeners = new Set<ResolverListener>();
  let current: Endpoint[] = initial.map((e) => toEndpoint(e, 'test'));
  return {
    source: 'pushed',
    subscribe(listener) {
      listeners.add(listener);
      listener.onUpdate({ endpoints: current, source: 'pushed' });
      return () => listeners.delete(listener);
    },
    push(list) {
      current = list.map((e) => toEndpoint(e, 'test'));
      for (const listener of listeners) listener.onUpdate({ endpoints: current, source: 'pushed' });
    },
    fail(error) {
      for (const listener of listeners) listener.onError(error);
    },
  };
}

describe('client hooks', () => {
  it('onEndpointsChanged: two clients with the same service name see only their own changes', async () => {
    const first = pushedResolver(['127.0.0.1:1001']);
    const second = pushedResolver(['127.0.0.1:2001']);
    await using a = client('orders').discovery(first).build();
    await using b = client('orders').discovery(second).build();
    const seenByA: EndpointsChangedEvent[] = [];
    const seenByB: EndpointsChangedEvent[] = [];
    const offA = a.onEndpointsChanged((event) => seenByA.push(event));
    b.onEndpointsChanged((event) => seenByB.push(event));
    second.push(['127.0.0.1:2002']);
    assert.equal(seenByA.length, 0, "a does not hear b's change");
    assert.deepEqual(seenByB.map((e) => [e.service, e.added.map((x) => x.id), e.removed.map((x) => x.id)]),
      [['orders', ['127.0.0.1:2002'], ['127.0.0.1:2001']]]);
    first.push(['127.0.0.1:1001', '127.0.0.1:1002']);
    assert.deepEqual(seenByA.map((e) => e.endpoints.map((x) => x.id)), [['127.0.0.1:1001', '127.0.0.1:1002']]);
    assert.equal(seenByB.length, 1);
    offA();
    offA(); // a second call does nothing
    first.push(['127.0.0.1:1003']);
    assert.equal(seenByA.length, 1, 'unsubscribed');
  });

  it('onDiscoveryError: only the failing client hears, with the last set still in use', async () => {
    const first = pushedResolver(['127.0.0.1:1001']);
    const second = pushedResolver(['127.0.0.1:2001']);
    await using a = client('orders').discovery(first).build();
    await using b = client('orders').discovery(second).build();
    const seenByA: DiscoveryErrorEvent[] = [];
    const seenByB: DiscoveryErrorEvent[] = [];
    a.onDiscoveryError((event) => seenByA.push(event));
    b.onDiscoveryError((event) => seenByB.push(event));
    first.fail(new Error('registry down'));
    assert.equal(seenByB.length, 0);
    assert.equal(seenByA.length, 1);
    assert.equal(seenByA[0]?.error.message, 'registry down');
    assert.equal(typeof seenByA[0]?.staleForMs, 'number');
    assert.deepEqual(a.endpoints().endpoints.map((e) => e.id), ['127.0.0.1:1001']);
  });

  it('onRetry: each retry with the failure before it; the other client of the name hears nothing', async (t) => {
    const [bad, good] = await startUpstreams([{ status: 503 }, {}]);
    t.after(async () => Promise.all([bad?.close(), good?.close()]));
    await using a = client('orders').endpoints([bad!.address, good!.address]).balancer(roundRobin())
      .retry({ attempts: 3, backoff: { base: '1ms', cap: '2ms' }, budget: false }).build();
    await using b = client('orders').endpoints([bad!.address, good!.address]).balancer(roundRobin())
      .retry({ attempts: 3, backoff: { base: '1ms', cap: '2ms' }, budget: false }).build();
    const retries: RetryEvent[] = [];
    const heardByA: RetryEvent[] = [];
    a.onRetry((event) => heardByA.push(event));
    b.onRetry((event) => retries.push(event));
    for (let i = 0; i < 2; i++) {
      const res = await b.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
    assert.ok(bad!.requests.length > 0);
    assert.equal(retries.length, bad!.requests.length, 'one retry per 503');
    for (const retry of retries) {
      assert.equal(retry.service, 'orders');
      assert.equal(retry.attempt, 2);
      assert.equal(retry.endpoint.id, good!.address);
      assert.equal(retry.previous?.endpoint.id, bad!.address);
      assert.equal(retry.previous?.outcome.status, 503);
    }
    assert.equal(heardByA.length, 0);
  });

  it('onEjection: outlier detection ejecting an endpoint of this client', async (t) => {
    const [bad, good] = await startUpstreams([{ status: 503 }, {}]);
    t.after(async () => Promise.all([bad?.close(), good?.close()]));
    await using a = client('orders').endpoints([bad!.address, good!.address]).balancer(roundRobin()).retry(false)
      .outlierDetection({ consecutiveGatewayFailures: 2, maxEjectionPercent: 50 }).build();
    await using b = client('orders').endpoints([bad!.address, good!.address]).retry(false).build();
    const ejections: EjectionEvent[] = [];
    const heardByB: EjectionEvent[] = [];
    a.onEjection((event) => ejections.push(event));
    b.onEjection((event) => heardByB.push(event));
    for (let i = 0; i < 4; i++) await (await a.request({ path: '/' })).body.dump();
    assert.equal(ejections.length, 1);
    assert.deepEqual([ejections[0]?.endpoint.id, ejections[0]?.ejected, ejections[0]?.reason],
      [bad!.address, true, 'consecutive-gateway-failures']);
    assert.equal(heardByB.length, 0);
  });

  it("onBreakerState: this client's breaker only, even when another client of the name trips its own", async (t) => {
    const [bad] = await startUpstreams([{ status: 503 }]);
    t.after(async () => bad?.close());
    const breaker = { errorThreshold: 0.5, volumeThreshold: 2, resetTimeout: '1m' } as const;
    await using a = client('orders').endpoints([bad!.address]).retry(false).circuitBreaker(breaker).build();
    await using b = client('orders').endpoints([bad!.address]).retry(false).circuitBreaker(breaker).build();
    const seenByA: BreakerStateEvent[] = [];
    const seenByB: BreakerStateEvent[] = [];
    a.onBreakerState((event) => seenByA.push(event));
    b.onBreakerState((event) => seenByB.push(event));
    for (let i = 0; i < 3; i++) {
      try {
        await (await b.request({ path: '/' })).body.dump();
      } catch (error) {
        assert.ok(isMeshkitError(error, 'ERR_CIRCUIT_OPEN'), String(error));
      }
    }
    assert.deepEqual(seenByB.map((e) => [e.previous, e.state]), [['closed', 'open']]);
    assert.equal(seenByA.length, 0);
  });

  it('a throwing listener is reported once and breaks neither the call nor the other listeners', async (t) => {
    const [bad, good] = await startUpstreams([{ status: 503 }, {}]);
    t.after(async () => Promise.all([bad?.close(), good?.close()]));
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => { warnings.push(warning); };
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    await using c = client('orders').endpoints([bad!.address, good!.address]).balancer(roundRobin())
      .retry({ attempts: 2, backoff: { base: '1ms', cap: '2ms' }, budget: false }).build();
    let healthy = 0;
    c.onRetry(() => { throw new Error('listener bug'); });
    c.onRetry(() => { healthy++; });
    for (let i = 0; i < 4; i++) {
      const res = await c.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(bad!.requests.length > 0);
    assert.equal(healthy, bad!.requests.length, 'the healthy listener heard every retry');
    const ours = warnings.filter((w) => (w as { code?: string }).code === 'MESHKIT_HOOK_ERROR');
    assert.equal(ours.length, 1, 'once, not per retry');
    assert.match(ours[0]?.message ?? '', /orders retry listener threw/);
  });

  it('watches nothing while nobody listens, and stops when the last listener leaves or the client closes', async () => {
    const c = client('orders').endpoints(['127.0.0.1:1']).build();
    assert.equal(channels.attemptStart.hasSubscribers, false);
    const off1 = c.onRetry(() => {});
    const off2 = c.onRetry(() => {});
    assert.equal(channels.attemptStart.hasSubscribers, true);
    off1();
    assert.equal(channels.attemptStart.hasSubscribers, true);
    off2();
    assert.equal(channels.attemptStart.hasSubscribers, false);
    c.onRetry(() => {});
    c.onBreakerState(() => {});
    assert.equal(channels.breakerState.hasSubscribers, true);
    await c.close();
    assert.equal(channels.attemptStart.hasSubscribers, false);
    assert.equal(channels.breakerState.hasSubscribers, false);
    c.onRetry(() => {})(); // after close: nothing to watch, nothing leaks
    assert.equal(channels.attemptStart.hasSubscribers, false);
  });

  it('a listener that is not a function is ERR_INVALID_ARGUMENT', async () => {
    await using c = client('orders').endpoints(['127.0.0.1:1']).build();
    for (const hook of ['onRetry', 'onEndpointsChanged', 'onEjection', 'onBreakerState', 'onDiscoveryError'] as const) {
      assert.throws(() => (c[hook] as (listener: unknown) => unknown)('nope'), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_ARGUMENT'));
    }
  });
});
