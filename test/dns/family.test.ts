import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { dns } from '../../src/dns/index.js';
import { client, isMeshkitError } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import { fakeDns, type FakeAnswer } from './fake-dns.js';
import { sleep, waitFor, watch } from './support.js';

const SRV = '_http._tcp.orders.test';
const TARGET = 'a.orders.test';

/** A resolver whose AAAA queries get `aaaa` (and, unless told, A queries 127.0.0.2). */
function srvServer(aaaa: FakeAnswer, a: FakeAnswer = { answers: [{ type: 'A', ttl: 30, data: '127.0.0.2' }] }) {
  return fakeDns((_name, type) => {
    if (type === 'SRV') return { answers: [{ type: 'SRV', ttl: 30, data: { priority: 1, weight: 1, port: 8080, target: TARGET } }] };
    if (type === 'A') return a;
    if (type === 'AAAA') return aaaa;
    return { rcode: 4 };
  });
}


describe('dns(): one address family failing (a fake resolver that fails or drops AAAA)', () => {
  it('SRV: a SERVFAIL for AAAA leaves the A records in use, reported once as a rejected entry', async (t) => {
    const server = await srvServer({ rcode: 2 });
    t.after(() => server.close());
    const { seen, unsubscribe } = watch({ name: SRV, servers: [server.address], ttlFloor: '100ms', ttlCap: '100ms', timeout: '300ms', tries: 1 });
    t.after(unsubscribe);
    await waitFor(() => seen.updates.length > 0 || seen.errors.length > 0, 3000, 'the first answer');
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.updates[0]?.map((e) => e.id), ['127.0.0.2:8080']);
    await waitFor(() => server.queries.filter((q) => q.type === 'SRV').length >= 3, 3000, 'two more resolutions');
    assert.equal(seen.rejected.length, 1, 'reported once, not on every resolution');
    const [rejection] = seen.rejected;
    assert.deepEqual(rejection?.entry, { name: TARGET, port: 8080, priority: 1, weight: 1 });
    assert.ok(isMeshkitError(rejection?.error, 'ERR_INVALID_CONFIG'));
    assert.match(rejection?.error.message ?? '', /AAAA: expected an answer to the AAAA query \(its A records are used without it; family: 4 stops asking\), got "ESERVFAIL"/);
    assert.deepEqual(seen.errors, []);
  });

  it('SRV: a dropped AAAA query (timeout) leaves the A records in use; a client calls them', async (t) => {
    const server = await srvServer({ drop: true });
    t.after(() => server.close());
    await using orders = client('orders').discovery(dns({ name: SRV, servers: [server.address], timeout: '200ms', tries: 1 })).build();
    await waitFor(() => orders.endpoints().endpoints.length > 0, 3000, 'a set');
    assert.deepEqual(orders.endpoints().endpoints.map((e) => e.id), ['127.0.0.2:8080']);
    assert.equal(orders.endpoints().stale, false);
  });

  it("family: 4 never asks AAAA; family: 6 never asks A", async (t) => {
    const server = await srvServer({ answers: [{ type: 'AAAA', ttl: 30, data: '::1' }] });
    t.after(() => server.close());
    for (const [family, id, skipped] of [[4, '127.0.0.2:8080', 'AAAA'], [6, '[::1]:8080', 'A']] as const) {
      const before = server.queries.length;
      const { seen, unsubscribe } = watch({ name: SRV, servers: [server.address], family });
      try {
        await waitFor(() => seen.updates.length > 0, 3000, `the family ${family} set`);
        assert.deepEqual(seen.updates[0]?.map((e) => e.id), [id]);
        assert.deepEqual(server.queries.slice(before).filter((q) => q.type === skipped), [], `no ${skipped} query with family ${family}`);
      } finally {
        unsubscribe();
      }
    }
  });

  it('both families failing, or one failing while the other has no records, is an error that keeps the last good set', async (t) => {
    let mode: 'good' | 'both' | 'nodata' = 'good';
    const server = await fakeDns((_name, type) => {
      if (type === 'SRV') return { answers: [{ type: 'SRV', ttl: 1, data: { priority: 1, weight: 1, port: 8080, target: TARGET } }] };
      if (type === 'A') return mode === 'good' ? { answers: [{ type: 'A', ttl: 1, data: '127.0.0.2' }] } : mode === 'both' ? { rcode: 2 } : {};
      return { rcode: 2 };
    });
    t.after(() => server.close());
    const { seen, unsubscribe } = watch({ name: SRV, servers: [server.address], ttlFloor: '50ms', ttlCap: '50ms', errorBackoff: { base: '50ms', cap: '50ms' } });
    t.after(unsubscribe);
    await waitFor(() => seen.updates.length === 1, 3000, 'the first set');
    for (const next of ['both', 'nodata'] as const) {
      mode = next;
      const errors = seen.errors.length;
      await waitFor(() => seen.errors.length > errors, 3000, `an error (${next})`);
      assert.equal(seen.updates.length, 1, `no empty or partial set (${next})`);
      assert.match(seen.errors.at(-1)?.message ?? '', /ESERVFAIL/);
    }
  });

  it('type a+aaaa: a failing AAAA query leaves the A records in use', async (t) => {
    const server = await fakeDns((_name, type) => (type === 'A' ? { answers: [{ type: 'A', ttl: 30, data: '127.0.0.3' }] } : { rcode: 5 }));
    t.after(() => server.close());
    const { seen, unsubscribe } = watch({ name: 'orders.test', type: 'a+aaaa', port: 80, servers: [server.address] });
    t.after(unsubscribe);
    await waitFor(() => seen.updates.length > 0 || seen.errors.length > 0, 3000, 'the first answer');
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.updates[0]?.map((e) => e.id), ['127.0.0.3:80']);
    assert.deepEqual(seen.rejected.map((r) => r.entry), [{ name: 'orders.test', type: 'a+aaaa' }]);
  });
});

/** A VirtualClock that records the delay of every timer set. */
class RecordingClock extends VirtualClock implements Clock {
  readonly delays: number[] = [];

  override setTimeout(callback: () => void, ms: number, keepAlive?: boolean): TimerHandle {
    this.delays.push(ms);
    return super.setTimeout(callback, ms, keepAlive);
  }
}

describe('dns(): error backoff', () => {
  it('jitters above ttlFloor from the first retry: loops that fail together do not retry in step', async (t) => {
    const server = await fakeDns(() => ({ rcode: 2 }));
    t.after(() => server.close());
    const firstRetries: number[] = [];
    for (let seed = 1; seed <= 6; seed++) {
      const clock = new RecordingClock(0, seed);
      // Defaults: ttlFloor 1 s, errorBackoff base 1 s, cap 30 s.
      const { seen, unsubscribe } = watch({ name: `svc${seed}.test`, type: 'a', port: 80, servers: [server.address], clock });
      try {
        for (let failure = 1; failure <= 3; failure++) {
          await waitFor(() => seen.errors.length === failure && clock.pendingTimers === 1, 3000, `failure ${failure}`);
          const delay = clock.delays.at(-1) as number;
          const ceiling = 1000 * 2 ** (failure - 1);
          assert.ok(delay >= 1000 && delay < 1000 + ceiling, `failure ${failure}: ${delay} ms within [ttlFloor, ttlFloor + ${ceiling})`);
          if (failure === 1) firstRetries.push(delay);
          await clock.advance(delay);
        }
      } finally {
        unsubscribe();
      }
      await sleep(0);
    }
    t.diagnostic(`first retry after (virtual ms): ${firstRetries.map((d) => d.toFixed(0)).join(', ')}`);
    assert.ok(firstRetries.every((d) => d > 1000), `every first retry later than the floor: ${firstRetries.join(', ')}`);
    assert.equal(new Set(firstRetries).size, firstRetries.length, 'and no two alike');
  });
});
