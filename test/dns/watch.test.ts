import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Endpoint, ResolverUpdate } from '../../src/index.js';
import { dns, type DnsOptions } from '../../src/dns/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import { DNS_SERVER_HOW_TO_GET, startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { serverMissing } from '../helpers/require-server.js';
import { sleep, waitFor } from './support.js';

const ZONE = 'meshkit.test';

/** Subscribes a recording listener directly to a dns() resolver. */
function watch(options: DnsOptions) {
  const resolver = dns(options);
  const seen = { updates: [] as (readonly Endpoint[])[], errors: [] as Error[], rejected: [] as unknown[] };
  const unsubscribe = resolver.subscribe({
    onUpdate: (update: ResolverUpdate) => seen.updates.push(update.endpoints),
    onError: (error) => seen.errors.push(error),
    onRejected: (entry) => seen.rejected.push(entry),
  });
  return { resolver, seen, unsubscribe };
}

describe('dns watch: TTL scheduling, refresh, answers (real named)', () => {
  let server: DnsServer | undefined;
  let missing: unknown;

  before(async () => {
    try {
      server = await startDnsServer([
        'ttl0 0 IN A 127.0.0.1',
        'ttl2 2 IN A 127.0.0.1',
        'ttl9 9 IN A 127.0.0.1',
        'refresh 9 IN A 127.0.0.1',
        'stop 9 IN A 127.0.0.1',
        'nodata 9 IN AAAA ::1',
      ], ZONE);
    } catch (error) {
      missing = error;
    }
  });
  after(async () => server?.stop());

  function need(t: TestContext): DnsServer | undefined {
    if (server === undefined) serverMissing(t, 'bind9 (named + nsupdate)', DNS_SERVER_HOW_TO_GET, missing);
    return server;
  }

  /** Checks that the next query for `name` comes exactly `expectedMs` after the first answer (virtual time). */
  async function nextQueryAfter(dnsServer: DnsServer, name: string, expectedMs: number): Promise<void> {
    const clock = new VirtualClock();
    const { seen, unsubscribe } = watch({
      name: `${name}.${ZONE}`, type: 'a', port: 8080, servers: [dnsServer.address], ttlFloor: '1s', ttlCap: '4s', clock,
    });
    try {
      await waitFor(() => seen.updates.length + seen.errors.length > 0, 5000, 'the first answer');
      assert.deepEqual(seen.errors, [], 'the first resolution succeeds');
      const first = dnsServer.queries(`${name}.${ZONE}`, 'A');
      assert.equal(first, 1);
      await clock.advance(expectedMs - 10);
      await sleep(150);
      assert.equal(dnsServer.queries(`${name}.${ZONE}`, 'A'), first, `no query before ${expectedMs} ms`);
      await clock.advance(20);
      await waitFor(() => dnsServer.queries(`${name}.${ZONE}`, 'A') === first + 1, 2000, `the query at ${expectedMs} ms`);
      await waitFor(() => clock.pendingTimers === 1, 2000, 'the next resolution to be scheduled');
    } finally {
      unsubscribe();
    }
    assert.equal(clock.pendingTimers, 0, 'stopping released the timer');
  }

  it('re-resolves at the TTL when it lies between floor and cap', async (t) => {
    const s = need(t);
    if (s !== undefined) await nextQueryAfter(s, 'ttl2', 2000);
  });

  it('never re-resolves sooner than the floor (TTL 0)', async (t) => {
    const s = need(t);
    if (s !== undefined) await nextQueryAfter(s, 'ttl0', 1000);
  });

  it('never waits longer than the cap (TTL 9 s, cap 4 s)', async (t) => {
    const s = need(t);
    if (s !== undefined) await nextQueryAfter(s, 'ttl9', 4000);
  });

  it('refresh() resolves early, at most once per floor', async (t) => {
    const s = need(t);
    if (s === undefined) return;
    const clock = new VirtualClock();
    const name = `refresh.${ZONE}`;
    const { resolver, seen, unsubscribe } = watch({ name, type: 'a', port: 8080, servers: [s.address], ttlFloor: '1s', ttlCap: '30s', clock });
    try {
      await waitFor(() => seen.updates.length + seen.errors.length > 0, 5000, 'the first answer');
      assert.deepEqual(seen.errors, [], 'the first resolution succeeds');
      assert.equal(s.queries(name, 'A'), 1);
      // Within the floor: the refresh is postponed to the floor, not sent now.
      for (let i = 0; i < 10; i++) resolver.refresh?.();
      await sleep(150);
      assert.equal(s.queries(name, 'A'), 1, 'no query inside the floor');
      await clock.advance(1000);
      await waitFor(() => s.queries(name, 'A') === 2, 2000, 'the early query at the floor');
      await waitFor(() => clock.pendingTimers === 1, 2000, 'the next resolution to be scheduled');
      // After the floor: a refresh resolves at once; a burst of refreshes makes one query.
      await clock.advance(1000);
      for (let i = 0; i < 10; i++) resolver.refresh?.();
      await waitFor(() => s.queries(name, 'A') === 3, 2000, 'the immediate early query');
      await sleep(150);
      for (let i = 0; i < 10; i++) resolver.refresh?.();
      await sleep(150);
      assert.equal(s.queries(name, 'A'), 3, 'one query for a burst of refreshes');
    } finally {
      unsubscribe();
    }
    assert.equal(clock.pendingTimers, 0);
  });

  it('NXDOMAIN and "no A records" are empty sets, not errors', async (t) => {
    const s = need(t);
    if (s === undefined) return;
    const missingName = watch({ name: `absent.${ZONE}`, type: 'a', port: 8080, servers: [s.address], ttlFloor: '100ms', ttlCap: '200ms' });
    const noData = watch({ name: `nodata.${ZONE}`, type: 'a', port: 8080, servers: [s.address], ttlFloor: '100ms', ttlCap: '200ms' });
    try {
      await waitFor(() => missingName.seen.updates.length === 1 && noData.seen.updates.length === 1, 2000, 'two answers');
      assert.deepEqual(missingName.seen.updates[0], []);
      assert.deepEqual(noData.seen.updates[0], []);
      assert.deepEqual([missingName.seen.errors, noData.seen.errors], [[], []]);
      // The record appears: the set follows.
      await s.update(`add absent.${ZONE}. 1 A 127.0.0.1`);
      await waitFor(() => missingName.seen.updates.length === 2, 1000, 'the added record');
      assert.deepEqual(missingName.seen.updates[1]?.map((e) => e.id), ['127.0.0.1:8080']);
    } finally {
      missingName.unsubscribe();
      noData.unsubscribe();
    }
  });

  it('a refused query (a zone this server does not serve) is an error, not an empty set', async (t) => {
    const s = need(t);
    if (s === undefined) return;
    const clock = new VirtualClock();
    const { seen, unsubscribe } = watch({ name: 'orders.elsewhere.test', type: 'a', port: 8080, servers: [s.address], clock });
    try {
      await waitFor(() => seen.errors.length === 1, 2000, 'the error');
      assert.equal((seen.errors[0] as Error & { code?: string }).code, 'EREFUSED');
      assert.equal(seen.updates.length, 0);
      assert.equal(clock.pendingTimers, 1, 'a retry is scheduled');
    } finally {
      unsubscribe();
    }
    assert.equal(clock.pendingTimers, 0);
  });

  it('stopping while a query is in flight publishes nothing afterwards and leaves no timer', async (t) => {
    const s = need(t);
    if (s === undefined) return;
    const clock = new VirtualClock();
    const { seen, unsubscribe } = watch({ name: `stop.${ZONE}`, type: 'a', port: 8080, servers: [s.address], clock });
    unsubscribe();
    await sleep(200);
    assert.deepEqual([seen.updates.length, seen.errors.length, clock.pendingTimers], [0, 0, 0]);
  });
});
