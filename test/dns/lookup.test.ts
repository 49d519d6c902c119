import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Endpoint } from '../../src/index.js';
import { ZERO_WEIGHT_SHARE } from '../../src/dns/index.js';
import { DNS_SERVER_HOW_TO_GET, startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { serverMissing } from '../helpers/require-server.js';
import { waitFor, watch } from './support.js';

const ZONE = 'meshkit.test';


const summary = (endpoints: readonly Endpoint[] | undefined) =>
  (endpoints ?? []).map((e) => `${e.id} w=${e.weight} ${e.metadata['target'] ?? ''}`).sort();

describe('dns answers: SRV priority and weight, A/AAAA (real named)', () => {
  let server: DnsServer | undefined;
  let missing: unknown;

  before(async () => {
    try {
      server = await startDnsServer([
        // Priority 10: its only target has no address yet; 20 is used until it gets one; 30 never.
        '_http._tcp.prio 1 IN SRV 10 5 8001 later',
        '_http._tcp.prio 1 IN SRV 20 3 8002 b1',
        '_http._tcp.prio 1 IN SRV 20 0 8003 b2',
        '_http._tcp.prio 1 IN SRV 20 4 8004 b3',
        '_http._tcp.prio 1 IN SRV 30 1 8005 b1',
        'b1 1 IN A 127.0.0.1',
        'b2 1 IN A 127.0.0.1',
        'b2 1 IN A 127.0.0.2',
        'b3 1 IN AAAA ::1',
        'hosts 1 IN A 127.0.0.1',
        'hosts 1 IN A 127.0.0.3',
        'hosts 1 IN AAAA ::1',
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

  it('uses the lowest priority group that has resolvable targets, with SRV weights', async (t) => {
    const s = need(t);
    if (s === undefined) return;
    const { seen, unsubscribe } = watch({ name: `_http._tcp.prio.${ZONE}`, servers: [s.address], ttlFloor: '100ms', ttlCap: '200ms' });
    try {
      await waitFor(() => seen.updates.length + seen.errors.length > 0, 5000, 'the first answer');
      assert.deepEqual(seen.errors, [], 'the first resolution succeeds');
      assert.deepEqual(summary(seen.updates[0]), [
        `127.0.0.1:8002 w=3 b1.${ZONE}`,
        `127.0.0.1:8003 w=${ZERO_WEIGHT_SHARE / 2} b2.${ZONE}`,
        `127.0.0.2:8003 w=${ZERO_WEIGHT_SHARE / 2} b2.${ZONE}`,
        `[::1]:8004 w=4 b3.${ZONE}`,
      ]);
      assert.equal(seen.rejected.length, 1, 'the priority-10 target without address is rejected');
      assert.match(seen.rejected[0]?.error.message ?? '', /A or AAAA records/);
      assert.deepEqual(seen.rejected[0]?.entry, { name: `later.${ZONE}`, port: 8001, priority: 10, weight: 5 });
      // The priority-10 target gets an address: that group wins alone.
      await s.update(`add later.${ZONE}. 1 A 127.0.0.4`);
      await waitFor(() => seen.updates.at(-1)?.some((e) => e.host === '127.0.0.4') === true, 1000, 'the priority-10 group');
      assert.deepEqual(seen.errors, []);
      assert.deepEqual(summary(seen.updates.at(-1)), [`127.0.0.4:8001 w=5 later.${ZONE}`]);
      assert.equal(seen.rejected.length, 1, 'the same rejected entry is reported once');
      assert.deepEqual(seen.errors, []);
    } finally {
      unsubscribe();
    }
  });

  it('A, AAAA and A+AAAA give every address on the given port', async (t) => {
    const s = need(t);
    if (s === undefined) return;
    const ids = async (type: 'a' | 'aaaa' | 'a+aaaa') => {
      const { seen, unsubscribe } = watch({ name: `hosts.${ZONE}`, type, port: 9090, servers: [s.address] });
      try {
        await waitFor(() => seen.updates.length + seen.errors.length > 0, 5000, `the ${type} answer`);
        assert.deepEqual(seen.errors, []);
        return seen.updates[0]?.map((e) => e.id).sort();
      } finally {
        unsubscribe();
      }
    };
    assert.deepEqual(await ids('a'), ['127.0.0.1:9090', '127.0.0.3:9090']);
    assert.deepEqual(await ids('aaaa'), ['[::1]:9090']);
    assert.deepEqual(await ids('a+aaaa'), ['127.0.0.1:9090', '127.0.0.3:9090', '[::1]:9090']);
  });
});
