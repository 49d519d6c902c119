import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  client, isMeshkitError, RejectedAnswerError, subscribe,
  type DiscoveryErrorMessage, type DiscoveryStaleMessage, type Resolver, type ResolverListener,
} from '../../src/index.js';
import { toEndpoint } from '../../src/core/endpoint.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { countedEndpoint } from '../helpers/counted-endpoint.js';

/** A custom resolver (the documented seam) whose updates and failures the test drives. */
function drivenResolver(source: string): Resolver & { listener: ResolverListener | undefined } {
  const resolver = {
    source,
    listener: undefined as ResolverListener | undefined,
    subscribe(listener: ResolverListener) {
      resolver.listener = listener;
      return () => {
        resolver.listener = undefined;
      };
    },
  };
  return resolver;
}

describe('endpoint state: staleness', () => {
  it('publishes discoveryStale once when the set turns stale and once when it is fresh again; discoveryError per failure', async (t) => {
    const clock = new VirtualClock();
    const service = `stale-${process.pid}`;
    const resolver = drivenResolver('driven:orders');
    const stale: DiscoveryStaleMessage[] = [];
    const errors: DiscoveryErrorMessage[] = [];
    t.after(subscribe('discoveryStale', (m) => {
      if (m.service === service) stale.push(m);
    }));
    t.after(subscribe('discoveryError', (m) => {
      if (m.service === service) errors.push(m);
    }));
    await using c = client(service).discovery(resolver).clock(clock).build();
    const listener = resolver.listener as ResolverListener;

    // Before any set there is nothing to be stale: an error is only an error.
    listener.onError(new Error('registry down at start'));
    assert.equal(stale.length, 0);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.staleForMs, undefined);

    listener.onUpdate({ source: 'driven:orders', endpoints: [toEndpoint('127.0.0.1:9', 'test')] });
    assert.equal(c.endpoints().stale, false);
    assert.equal(stale.length, 0, 'a first set after errors is not a recovery from staleness');

    await clock.advance(1000);
    listener.onError(new Error('poll 1 failed'));
    await clock.advance(500);
    listener.onError(new Error('poll 2 failed'));
    assert.equal(c.endpoints().stale, true);
    assert.equal(c.endpoints().endpoints.length, 1, 'the last good set stays in use');
    assert.equal(stale.length, 1, 'one event however many polls fail');
    assert.deepEqual({ ...stale[0], error: stale[0]?.error?.message }, {
      service, source: 'driven:orders', stale: true, error: 'poll 1 failed', staleForMs: 1000,
    });
    assert.deepEqual(errors.slice(1).map((m) => m.staleForMs), [1000, 1500]);

    await clock.advance(2000);
    listener.onUpdate({ source: 'driven:orders', endpoints: [toEndpoint('127.0.0.1:10', 'test')] });
    assert.equal(c.endpoints().stale, false);
    assert.deepEqual(stale.slice(1), [{ service, source: 'driven:orders', stale: false, error: undefined, staleForMs: 2500 }]);

    listener.onError(new Error('again'));
    assert.equal(stale.length, 3, 'a new outage is a new event');
    assert.equal(stale[2]?.stale, true);
  });
});

describe('endpoint state: answers whose every entry was rejected', () => {
  it('keeps the last good set, turns stale and publishes discoveryError with every rejected entry; snapshot().lastError holds them', async (t) => {
    const clock = new VirtualClock();
    const service = `rejected-${process.pid}`;
    const resolver = drivenResolver('driven:orders');
    const errors: DiscoveryErrorMessage[] = [];
    const stale: DiscoveryStaleMessage[] = [];
    t.after(subscribe('discoveryError', (m) => {
      if (m.service === service) errors.push(m);
    }));
    t.after(subscribe('discoveryStale', (m) => {
      if (m.service === service) stale.push(m);
    }));
    await using c = client(service).discovery(resolver).clock(clock).retry(false).build();
    const listener = resolver.listener as ResolverListener;
    const good = toEndpoint('127.0.0.1:9', 'test');
    listener.onUpdate({ source: 'driven:orders', endpoints: [good] });
    await clock.advance(700);

    const rejected = [
      { entry: { host: '127.0.0.1', port: 0 }, error: new Error('port 0') },
      { entry: { host: '0.0.0.0', port: 80 }, error: new Error('unspecified address') },
    ];
    listener.onUpdate({ source: 'driven:orders', endpoints: [], rejected });
    const snapshot = c.endpoints();
    assert.deepEqual(snapshot.endpoints, [good], 'the last good set stays in use');
    assert.equal(snapshot.stale, true);
    assert.ok(snapshot.lastError instanceof RejectedAnswerError);
    assert.ok(isMeshkitError(snapshot.lastError, 'ERR_INVALID_CONFIG'));
    assert.deepEqual(snapshot.lastError.rejected, rejected, 'every rejected entry, what and why');
    assert.deepEqual(snapshot.lastError.details['rejected'], rejected);
    assert.match(snapshot.lastError.message, /driven:orders: every entry of the answer was rejected \(2\).*port 0.*unspecified address/);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.error, snapshot.lastError);
    assert.equal(errors[0]?.staleForMs, 700);
    assert.deepEqual(stale.map((m) => m.stale), [true]);

    // A real answer of no instances still empties the set: only "every entry invalid" is an error.
    listener.onUpdate({ source: 'driven:orders', endpoints: [] });
    assert.deepEqual(c.endpoints().endpoints, []);
    assert.equal(c.endpoints().stale, false);
    assert.equal(c.endpoints().lastError, undefined);
    await assert.rejects(c.request({ path: '/' }), (e: unknown) => isMeshkitError(e, 'ERR_NO_ENDPOINTS'));
  });

  it('before any set, an answer of rejected entries only is an error and calls wait for a good set', async (t) => {
    const service = `rejected-first-${process.pid}`;
    const resolver = drivenResolver('driven:orders');
    const errors: DiscoveryErrorMessage[] = [];
    t.after(subscribe('discoveryError', (m) => {
      if (m.service === service) errors.push(m);
    }));
    await using c = client(service).discovery(resolver).timeout({ total: '50ms' }).retry(false).build();
    resolver.listener?.onUpdate({ source: 'driven:orders', endpoints: [], rejected: [{ entry: 'x', error: new Error('not JSON') }] });
    assert.equal(c.endpoints().ageMs, undefined, 'no set yet');
    assert.ok(c.endpoints().lastError instanceof RejectedAnswerError);
    assert.equal(errors[0]?.staleForMs, undefined);
    await assert.rejects(c.request({ path: '/' }), (e: unknown) => isMeshkitError(e, 'ERR_NO_ENDPOINTS') || isMeshkitError(e, 'ERR_DEADLINE_EXCEEDED'));
  });
});

describe('endpoint state: the cost of an update', () => {
  it('a client with peak EWMA and outlier detection reads a handful of ids per one-endpoint change of 1,000 endpoints, and keeps every stayer', async () => {
    const counter = { reads: 0 };
    const fleet = Array.from({ length: 1000 }, (_, i) => countedEndpoint(toEndpoint(`127.0.0.1:${3000 + i}`, 'e'), counter));
    const resolver = drivenResolver('driven:fleet');
    await using c = client(`fleet-${process.pid}`).discovery(resolver).clock(new VirtualClock()).outlierDetection({}).build();
    const listener = resolver.listener as ResolverListener;
    listener.onUpdate({ endpoints: fleet, source: 'driven:fleet' });
    let set = fleet;
    counter.reads = 0;
    for (let i = 0; i < 10; i++) {
      const leaving = fleet[i * 50] as (typeof fleet)[number];
      set = set.filter((e) => e !== leaving);
      listener.onUpdate({ endpoints: set, source: 'driven:fleet' });
      set = [...set, leaving]; // back at the end, as a rolling restart has it
      listener.onUpdate({ endpoints: set, source: 'driven:fleet' });
    }
    assert.ok(counter.reads <= 20 * 8, `${counter.reads} id reads for 20 updates`);
    const snapshot = c.endpoints();
    assert.equal(snapshot.available.length, 1000);
    assert.equal(snapshot.load.length, 1000, 'the balancer has state for every endpoint');
  });
});
