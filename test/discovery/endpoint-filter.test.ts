import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allowCidrs, client, filterResolver, isMeshkitError, RejectedAnswerError, subscribe, toEndpoint,
  type DiscoveryErrorMessage, type DiscoveryRejectedMessage, type Endpoint, type Resolver, type ResolverListener, type ResolverUpdate,
} from '../../src/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

/** A custom resolver (the documented seam) whose updates the test drives; counts refresh hints. */
function drivenResolver(source: string): Resolver & { listener: ResolverListener | undefined; refreshes: number } {
  const resolver = {
    source,
    listener: undefined as ResolverListener | undefined,
    refreshes: 0,
    subscribe(listener: ResolverListener) {
      resolver.listener = listener;
      return () => {
        resolver.listener = undefined;
      };
    },
    refresh() {
      resolver.refreshes++;
    },
  };
  return resolver;
}

function recorder() {
  const seen = { updates: [] as ResolverUpdate[], errors: [] as Error[], rejected: [] as { entry: unknown; error: Error }[] };
  const listener: ResolverListener = {
    onUpdate: (u) => seen.updates.push(u),
    onError: (e) => seen.errors.push(e),
    onRejected: (entry, error) => seen.rejected.push({ entry, error }),
  };
  return { seen, listener };
}

const ids = (list: readonly unknown[] | undefined) => (list ?? []).map((e) => (e as Endpoint).id);

describe('filterResolver / endpointFilter', () => {
  it('passes on the allowed endpoints and reports each refused one once while it stays in the set', () => {
    const inner = drivenResolver('driven:orders');
    const { seen, listener } = recorder();
    const filtered = filterResolver(inner, allowCidrs(['127.0.0.0/8']));
    const stop = filtered.subscribe(listener);
    const a = toEndpoint('127.0.0.1:1', 'e');
    const outside = toEndpoint('192.0.2.1:1', 'e');
    const invalid = { entry: { port: 0 }, error: new Error('port 0') };
    inner.listener?.onUpdate({ source: 'driven:orders', endpoints: [a, outside], rejected: [invalid] });
    assert.deepEqual(ids(seen.updates[0]?.endpoints), ['127.0.0.1:1']);
    assert.deepEqual(seen.rejected.map((r) => (r.entry as Endpoint).id), ['192.0.2.1:1']);
    assert.ok(isMeshkitError(seen.rejected[0]?.error, 'ERR_INVALID_CONFIG'));
    assert.deepEqual(seen.updates[0]?.rejected?.map((r) => r.entry), [{ port: 0 }, outside], 'the update lists what the resolver and the filter left out');
    inner.listener?.onUpdate({ source: 'driven:orders', endpoints: [a, outside, toEndpoint('127.0.0.2:1', 'e')] });
    assert.equal(seen.rejected.length, 1, 'still refused, not reported again');
    inner.listener?.onUpdate({ source: 'driven:orders', endpoints: [a] });
    assert.equal(seen.updates[2]?.rejected, undefined, 'nothing refused: the update passes unchanged');
    inner.listener?.onUpdate({ source: 'driven:orders', endpoints: [a, outside] });
    assert.equal(seen.rejected.length, 2, 'back after leaving the set: reported again');
    filtered.refresh?.();
    assert.equal(inner.refreshes, 1, 'refresh hints reach the resolver');
    stop();
    assert.equal(inner.listener, undefined);
  });

  it('a set whose every endpoint is refused is an error listing every rejected entry, not an empty set', () => {
    const inner = drivenResolver('driven:orders');
    const { seen, listener } = recorder();
    filterResolver(inner, allowCidrs(['127.0.0.1/32'])).subscribe(listener);
    const invalid = { entry: { port: 0 }, error: new Error('port 0') };
    inner.listener?.onUpdate({ source: 'driven:orders', endpoints: [toEndpoint('127.0.0.2:1', 'e')], rejected: [invalid] });
    assert.equal(seen.updates.length, 0);
    const error = seen.errors[0];
    assert.ok(error instanceof RejectedAnswerError);
    assert.equal(error.code, 'ERR_INVALID_CONFIG');
    assert.equal(error.source, 'driven:orders');
    assert.deepEqual(error.rejected.map((r) => r.entry), [{ port: 0 }, toEndpoint('127.0.0.2:1', 'e')]);
    assert.match(error.message, /every entry of the answer was rejected \(2\)/);
    // An empty answer is a real answer: it passes, and empties the set.
    inner.listener?.onUpdate({ source: 'driven:orders', endpoints: [] });
    assert.deepEqual(ids(seen.updates[0]?.endpoints), []);
    assert.equal(seen.errors.length, 1);
  });

  it('a filter that throws refuses that endpoint, with the thrown error as cause', () => {
    const inner = drivenResolver('driven:orders');
    const { seen, listener } = recorder();
    const boom = new Error('filter broke');
    filterResolver(inner, (e) => {
      if (e.port === 2) throw boom;
      return true;
    }).subscribe(listener);
    inner.listener?.onUpdate({ source: 'driven:orders', endpoints: [toEndpoint('127.0.0.1:1', 'e'), toEndpoint('127.0.0.1:2', 'e')] });
    assert.deepEqual(ids(seen.updates[0]?.endpoints), ['127.0.0.1:1']);
    assert.equal(seen.rejected[0]?.error.cause, boom);
    assert.match(seen.rejected[0]?.error.message ?? '', /filter broke/);
  });

  it('refuses a filter that is not a function', () => {
    assert.throws(() => filterResolver(drivenResolver('x'), undefined as never),
      (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'endpointFilter');
  });

  it('with a client: a set the filter refuses entirely keeps the last good set (stale, discoveryError with every entry); calls go on', async (t) => {
    const [up] = (await startUpstreams([{}])) as [Upstream];
    t.after(() => up.close());
    const service = `filtered-${process.pid}`;
    const errors: DiscoveryErrorMessage[] = [];
    const rejected: DiscoveryRejectedMessage[] = [];
    t.after(subscribe('discoveryError', (m) => {
      if (m.service === service) errors.push(m);
    }));
    t.after(subscribe('discoveryRejected', (m) => {
      if (m.service === service) rejected.push(m);
    }));
    const inner = drivenResolver('driven:orders');
    await using c = client(service).discovery(filterResolver(inner, allowCidrs(['127.0.0.1/32']))).retry(false).build();
    const good = toEndpoint(up.address, 'e');
    inner.listener?.onUpdate({ source: 'driven:orders', endpoints: [good] });
    assert.deepEqual(ids(c.endpoints().endpoints), [good.id]);

    inner.listener?.onUpdate({ source: 'driven:orders', endpoints: [toEndpoint('127.0.0.2:9', 'e'), toEndpoint('127.0.0.3:9', 'e')] });
    const snapshot = c.endpoints();
    assert.deepEqual(ids(snapshot.endpoints), [good.id], 'the last good set stays');
    assert.equal(snapshot.stale, true);
    assert.ok(snapshot.lastError instanceof RejectedAnswerError);
    assert.deepEqual(ids(snapshot.lastError.rejected.map((r) => r.entry)), ['127.0.0.2:9', '127.0.0.3:9']);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.error, snapshot.lastError);
    assert.deepEqual(rejected.map((m) => (m.entry as Endpoint).id), ['127.0.0.2:9', '127.0.0.3:9']);
    const res = await c.request({ path: '/' });
    assert.equal(res.statusCode, 200, 'calls still go to the last good set');
    await res.body.dump();
  });
});
