import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  client, configureDiscoveryCache, discoveryCacheEntries, isMeshkitError, sharedResolver, subscribe, toEndpoint,
  type Clock, type DiscoveryErrorMessage, type DiscoveryRejectedMessage, type ResolverListener, type ResolverUpdate, type WatchSink, type WatchSource,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

/** A watch source driven by the test, counting how often it is started and stopped. */
function testSource(key: string, extra: { clock?: Clock; credentials?: unknown } = {}): WatchSource & { sink: WatchSink | undefined; starts: number; stops: number; refreshes: number } {
  const source = {
    ...extra,
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

  it('ages sets on the injected clock of the source, not the real one', async () => {
    const clock = new VirtualClock();
    const source = testSource('clock-1', { clock });
    const stopFirst = sharedResolver(source).subscribe(recorder());
    source.sink?.update([toEndpoint('127.0.0.1:1', 'e')]);
    await clock.advance(5000);
    const late = recorder();
    const stopLate = sharedResolver(source).subscribe(late);
    assert.equal(late.updates[0]?.ageMs, 5000);
    assert.equal(discoveryCacheEntries().find((e) => e.key === 'clock-1')?.ageMs, 5000);
    stopFirst();
    stopLate();
    await clock.advance(1000);
    const next = recorder();
    sharedResolver(source).subscribe(next)();
    assert.equal(next.updates[0]?.ageMs, 6000, 'an idle set keeps ageing on the same clock');
  });

  it('expires idle sets on the clock of the source', async () => {
    configureDiscoveryCache({ idleTtlMs: '1s' });
    try {
      const clock = new VirtualClock();
      const source = testSource('clock-2', { clock });
      const idle = (): void => {
        const stop = sharedResolver(source).subscribe(recorder());
        source.sink?.update([toEndpoint('127.0.0.1:1', 'e')]);
        stop();
      };
      const seeded = (): boolean => {
        const listener = recorder();
        sharedResolver(source).subscribe(listener)();
        return listener.updates.length === 1;
      };
      idle();
      await clock.advance(999);
      assert.equal(seeded(), true, 'kept within idleTtlMs');
      idle();
      await clock.advance(1001);
      assert.equal(seeded(), false, 'expired after idleTtlMs of virtual time');
    } finally {
      configureDiscoveryCache({});
    }
  });

  it('keys watches by a fingerprint of their credentials: different secrets never share, equal ones do, the key never shows them', () => {
    const one = testSource('cred-1', { credentials: { password: 'first-secret', ca: Buffer.from('CA one') } });
    const other = testSource('cred-1', { credentials: { password: 'second-secret', ca: Buffer.from('CA one') } });
    const otherCa = testSource('cred-1', { credentials: { password: 'first-secret', ca: Buffer.from('CA two') } });
    const same = testSource('cred-1', { credentials: { ca: Buffer.from('CA one'), password: 'first-secret' } });
    const stops = [one, other, otherCa, same].map((source) => sharedResolver(source).subscribe(recorder()));
    assert.deepEqual([one.starts, other.starts, otherCa.starts, same.starts], [1, 1, 1, 0], 'equal content in another object shares; any difference does not');
    const keys = discoveryCacheEntries().filter((e) => e.key.startsWith('cred-1')).map((e) => e.key);
    assert.equal(keys.length, 3);
    for (const key of keys) {
      assert.match(key, /^cred-1\|credentials#[0-9a-f]{64}$/);
      assert.ok(!key.includes('secret') && !key.includes('CA'), key);
    }
    one.sink?.update([toEndpoint('127.0.0.1:1', 'e')]);
    const late = recorder();
    sharedResolver(testSource('cred-1', { credentials: { password: 'wrong' } })).subscribe(late)();
    assert.deepEqual(late.updates, [], 'a subscriber with other credentials never sees the set');
    for (const stop of stops) stop();
  });

  it('tells a late subscriber that the shared set is stale', async () => {
    const source = testSource('late-stale');
    const stopFirst = sharedResolver(source).subscribe(recorder());
    source.sink?.update([toEndpoint('127.0.0.1:1', 'e')]);
    source.sink?.error(new Error('registry down'));
    await using late = client('late-stale').discovery(sharedResolver(source)).build();
    assert.equal(late.endpoints().endpoints.length, 1);
    assert.equal(late.endpoints().stale, true);
    assert.equal(late.endpoints().lastError?.message, 'registry down');
    stopFirst();
  });

  it('passes the rejected entries of an answer along with its set, to late subscribers too', () => {
    const source = testSource('with-rejected');
    const first = recorder();
    const stopFirst = sharedResolver(source).subscribe(first);
    const bad = { entry: { port: 0 }, error: new Error('port 0') };
    source.sink?.update([toEndpoint('127.0.0.1:1', 'e')], [bad]);
    assert.deepEqual(first.updates[0]?.rejected, [bad]);
    const late = recorder();
    sharedResolver(source).subscribe(late)();
    assert.deepEqual(late.updates[0]?.rejected, [bad]);
    stopFirst();
  });

  it('checks configureDiscoveryCache options with the options kit', () => {
    assert.throws(() => configureDiscoveryCache({ maxIdel: 5 } as never),
      (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'configureDiscoveryCache.maxIdel' && /did you mean `maxIdle`/.test(e.message));
    assert.throws(() => configureDiscoveryCache({ maxIdle: 0 }), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG'));
    assert.throws(() => configureDiscoveryCache({ idleTtlMs: 'soon' }), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG'));
    configureDiscoveryCache({});
  });
});
