import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  client, configureDiscoveryCache, discoveryCacheEntries, sharedResolver, subscribe, toEndpoint,
  type DiscoveryErrorMessage, type DiscoveryRejectedMessage, type ResolverListener, type ResolverUpdate, type WatchSink, type WatchSource,
} from '../../src/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

/** A watch source driven by the test, counting how often it is started and stopped. */
function testSource(key: string): WatchSource & { sink: WatchSink | undefined; starts: number; stops: number; refreshes: number } {
  const source = {
    key,
    source: `test:${key}`,
    sink: undefined as WatchSink | undefined,
    starts: 0,
    stops: 0,
    refreshes: 0,
    start(sink: WatchSink) {
      source.starts++;
      source.sink = sink;
      return () => {
        source.stops++;
        source.sink = undefined;
      };
    },
    refresh() {
      source.refreshes++;
    },
  };
  return source;
}

function recorder(): ResolverListener & { updates: ResolverUpdate[]; errors: Error[] } {
  const updates: ResolverUpdate[] = [];
  const errors: Error[] = [];
  return { updates, errors, onUpdate: (u) => updates.push(u), onError: (e) => errors.push(e) };
}

describe('sharedResolver', () => {
  it('shares one watch between subscribers and stops it when the last leaves', () => {
    const source = testSource('share-1');
    const resolver = sharedResolver(source);
    const a = recorder();
    const b = recorder();
    const stopA = resolver.subscribe(a);
    const stopB = sharedResolver(testSource('share-1')).subscribe(b); // an equal key from another factory call
    assert.equal(source.starts, 1);
    source.sink?.update([toEndpoint('127.0.0.1:1', 'e')]);
    assert.equal(a.updates.length, 1);
    assert.equal(b.updates.length, 1);
    assert.equal(discoveryCacheEntries().find((e) => e.key === 'share-1')?.subscribers, 2);
    stopA();
    assert.equal(source.stops, 0);
    stopB();
    assert.equal(source.stops, 1);
    assert.equal(discoveryCacheEntries().find((e) => e.key === 'share-1'), undefined);
  });

  it('hands a late subscriber the current set with its age, and an idle key its last set', async () => {
    const source = testSource('share-2');
    const resolver = sharedResolver(source);
    const stopFirst = resolver.subscribe(recorder());
    source.sink?.update([toEndpoint('127.0.0.1:2', 'e')]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const late = recorder();
    const stopLate = resolver.subscribe(late);
    assert.equal(late.updates.length, 1);
    assert.ok((late.updates[0]?.ageMs ?? 0) >= 25, 'the set carries its age');
    stopFirst();
    stopLate();
    const next = recorder();
    const stopNext = resolver.subscribe(next);
    assert.equal(next.updates[0]?.endpoints[0]?.port, 2, 'the idle cache seeds the next watch');
    assert.ok((next.updates[0]?.ageMs ?? 0) >= 25, 'with the age the set had when it went idle, and more');
    assert.equal(source.starts, 2);
    stopNext();
  });

  it('bounds the idle part of the cache: least recently used sets go first, idle sets expire, kept sets carry their age', async () => {
    configureDiscoveryCache({ maxIdle: 2, idleTtlMs: 400 });
    try {
      const idle = (key: string, port: number): WatchSource & { starts: number } => {
        const source = testSource(key);
        const stop = sharedResolver(source).subscribe(recorder());
        source.sink?.update([toEndpoint(`127.0.0.1:${port}`, 'e')]);
        stop();
        return source;
      };
      const first = idle('bound-1', 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const second = idle('bound-2', 2);
      const third = idle('bound-3', 3); // the third idle set evicts the least recently used one
      const late = (source: WatchSource): ResolverUpdate | undefined => {
        const listener = recorder();
        sharedResolver(source).subscribe(listener)();
        return listener.updates[0];
      };
      assert.equal(late(first), undefined, 'evicted: the next watch of bound-1 starts empty');
      const seeded = late(second);
      assert.equal(seeded?.endpoints[0]?.port, 2);
      assert.ok((seeded?.ageMs ?? -1) >= 0, 'a kept set carries its age');
      assert.equal(late(third)?.endpoints[0]?.port, 3);
      assert.deepEqual([first.starts, second.starts, third.starts], [2, 2, 2]);
      await new Promise((resolve) => setTimeout(resolve, 450));
      assert.equal(late(third), undefined, 'expired after idleTtlMs');
    } finally {
      configureDiscoveryCache({});
    }
  });

  it('keeps the last good set on errors, reports staleness, and passes rejected entries to clients', async () => {
    const [up] = (await startUpstreams([{}])) as [Upstream];
    const source = testSource('share-3');
    const errors: DiscoveryErrorMessage[] = [];
    const rejected: DiscoveryRejectedMessage[] = [];
    const stopErrors = subscribe('discoveryError', (m) => errors.push(m));
    const stopRejected = subscribe('discoveryRejected', (m) => rejected.push(m));
    try {
      await using c = client('shared').discovery(sharedResolver(source)).build();
      source.sink?.reject({ port: 0 }, new Error('port 0'));
      source.sink?.update([toEndpoint(up.address, 'e')]);
      assert.equal(c.endpoints().stale, false);
      source.sink?.error(new Error('registry down'));
      const snapshot = c.endpoints();
      assert.equal(snapshot.stale, true);
      assert.equal(snapshot.endpoints.length, 1);
      assert.equal(snapshot.lastError?.message, 'registry down');
      const res = await c.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      assert.equal(errors.find((m) => m.service === 'shared')?.error.message, 'registry down');
      assert.deepEqual(rejected.find((m) => m.service === 'shared')?.entry, { port: 0 });
      source.sink?.update([toEndpoint(up.address, 'e')]);
      assert.equal(c.endpoints().stale, false);
    } finally {
      stopErrors();
      stopRejected();
      await up.close();
    }
    assert.equal(source.stops, 1, 'closing the client stopped the watch');
  });

  it('asks the provider to refresh when an attempt cannot connect', async () => {
    const source = testSource('share-4');
    await using c = client('refresh').discovery(sharedResolver(source)).retry(false).build();
    source.sink?.update([toEndpoint('127.0.0.1:1', 'e')]);
    await assert.rejects(c.request({ path: '/' }));
    assert.equal(source.refreshes, 1);
  });
});
