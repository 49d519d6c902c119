import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  allowCidrs, client, discoveryCacheEntries, isMeshkitError, RejectedAnswerError, roundRobin, subscribe,
  type DiscoveryErrorMessage, type DiscoveryRejectedMessage,
} from '../../src/index.js';
import { dns } from '../../src/dns/index.js';
import { DNS_SERVER_HOW_TO_GET, startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { serverMissing } from '../helpers/require-server.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { sleep, waitFor } from './support.js';

const ZONE = 'meshkit.test';
const srvName = (service: string) => `_http._tcp.${service}.${ZONE}`;

describe('dns(): answers whose every record is invalid keep the last good set (real named)', () => {
  let server: DnsServer | undefined;
  let missing: unknown;
  let up: Upstream[] = [];

  before(async () => {
    up = await startUpstreams([{}]);
    const [u0] = up as [Upstream];
    try {
      server = await startDnsServer([
        'host1 1 IN A 127.0.0.1',
        `_http._tcp.broken 1 IN SRV 10 1 ${u0.port} host1`,
        `_http._tcp.gone 1 IN SRV 10 1 ${u0.port} host1`,
        'anyaddr 1 IN A 127.0.0.1',
        'anyaddr 1 IN A 0.0.0.0',
        'anyaddr 1 IN AAAA ::',
        'mixed 1 IN A 127.0.0.1',
        'mixed 1 IN A 127.0.0.2',
      ], ZONE);
    } catch (error) {
      missing = error;
    }
  });
  after(async () => {
    await server?.stop();
    await Promise.all(up.map((u) => u.close()));
  });

  function need(t: TestContext): DnsServer | undefined {
    if (server === undefined) serverMissing(t, 'bind9 (named + nsupdate)', DNS_SERVER_HOW_TO_GET, missing);
    return server;
  }

  it('SRV records all invalid (port 0, a target without address): the set stays, stale, the error lists them; removing them empties the set', async (t) => {
    const s = need(t);
    if (s === undefined) return;
    const [u0] = up as [Upstream];
    const name = srvName('broken');
    const errors: DiscoveryErrorMessage[] = [];
    t.after(subscribe('discoveryError', (m) => {
      if (m.service === 'broken') errors.push(m);
    }));
    await using c = client('broken').balancer(roundRobin()).retry(false)
      .discovery(dns({ name, servers: [s.address], ttlFloor: '100ms', ttlCap: '200ms' })).build();
    await waitFor(() => c.endpoints().endpoints.length === 1, 3000, 'the first set');

    // One update: the good record goes, two bad ones come.
    await s.update(`delete ${name}. SRV 10 1 ${u0.port} host1.${ZONE}.`, `add ${name}. 1 SRV 10 1 0 host1.${ZONE}.`, `add ${name}. 1 SRV 10 1 8080 ghost.${ZONE}.`);
    await waitFor(() => errors.length > 0, 2000, 'the discoveryError');
    const snapshot = c.endpoints();
    assert.deepEqual(snapshot.endpoints.map((e) => e.port), [u0.port], 'the last good set stays in use');
    assert.equal(snapshot.stale, true);
    assert.ok(snapshot.lastError instanceof RejectedAnswerError);
    assert.ok(isMeshkitError(errors[0]?.error, 'ERR_INVALID_CONFIG'));
    const entries = snapshot.lastError.rejected.map((r) => `${(r.entry as { name: string }).name}:${(r.entry as { port: number }).port}`).sort();
    assert.deepEqual(entries, [`ghost.${ZONE}:8080`, `host1.${ZONE}:0`]);
    const res = await c.request({ path: '/' });
    assert.equal(res.statusCode, 200, 'calls go on to the last good set');
    await res.body.dump();
    // More resolutions of the same answer: still stale, not reported again.
    await sleep(500);
    assert.equal(errors.length, 1);
    assert.equal(c.endpoints().stale, true);

    // The bad records go too: NXDOMAIN/no records is a real answer, and empties the set.
    await s.update(`delete ${name}. SRV`);
    await waitFor(() => c.endpoints().endpoints.length === 0, 2000, 'the empty set');
    assert.equal(c.endpoints().stale, false);
    await assert.rejects(c.request({ path: '/' }), (e: unknown) => isMeshkitError(e, 'ERR_NO_ENDPOINTS'));
  });

  it("SRV target '.' only (the service is not offered) is an empty set, not an error", async (t) => {
    const s = need(t);
    if (s === undefined) return;
    const [u0] = up as [Upstream];
    const name = srvName('gone');
    await using c = client('gone').retry(false).discovery(dns({ name, servers: [s.address], ttlFloor: '100ms', ttlCap: '200ms' })).build();
    await waitFor(() => c.endpoints().endpoints.length === 1, 3000, 'the first set');
    await s.update(`delete ${name}. SRV 10 1 ${u0.port} host1.${ZONE}.`, `add ${name}. 1 SRV 0 0 0 .`);
    await waitFor(() => c.endpoints().endpoints.length === 0, 2000, 'the empty set');
    assert.equal(c.endpoints().stale, false);
    assert.equal(c.endpoints().lastError, undefined);
  });

  it('A and AAAA records of 0.0.0.0 and :: are rejected; the real address is used', async (t) => {
    const s = need(t);
    if (s === undefined) return;
    const [u0] = up as [Upstream];
    const rejected: DiscoveryRejectedMessage[] = [];
    t.after(subscribe('discoveryRejected', (m) => {
      if (m.service === 'anyaddr') rejected.push(m);
    }));
    await using c = client('anyaddr').retry(false)
      .discovery(dns({ name: `anyaddr.${ZONE}`, type: 'a+aaaa', port: u0.port, servers: [s.address] })).build();
    await waitFor(() => c.endpoints().endpoints.length === 1 && rejected.length === 2, 3000, 'the set and two rejections');
    assert.deepEqual(c.endpoints().endpoints.map((e) => e.host), ['127.0.0.1']);
    assert.deepEqual(rejected.map((m) => (m.entry as { address: string }).address).sort(), ['0.0.0.0', '::']);
    assert.ok(rejected.every((m) => /this host/.test(m.error.message)));
  });

  it('endpointFilter: addresses outside the allowed blocks are rejected; clients with and without it share one resolve loop', async (t) => {
    const s = need(t);
    if (s === undefined) return;
    const [u0] = up as [Upstream];
    const options = { name: `mixed.${ZONE}`, type: 'a', port: u0.port, servers: [s.address] } as const;
    const rejected: DiscoveryRejectedMessage[] = [];
    t.after(subscribe('discoveryRejected', (m) => {
      if (m.service === 'mixed-filtered') rejected.push(m);
    }));
    await using filtered = client('mixed-filtered').discovery(dns({ ...options, endpointFilter: allowCidrs(['127.0.0.1/32']) })).build();
    await using plain = client('mixed-plain').discovery(dns(options)).build();
    await waitFor(() => filtered.endpoints().ageMs !== undefined && plain.endpoints().ageMs !== undefined, 3000, 'both sets');
    assert.deepEqual(filtered.endpoints().endpoints.map((e) => e.host), ['127.0.0.1']);
    assert.deepEqual(plain.endpoints().endpoints.map((e) => e.host).sort(), ['127.0.0.1', '127.0.0.2']);
    assert.deepEqual(rejected.map((m) => (m.entry as { host: string }).host), ['127.0.0.2']);
    assert.equal(discoveryCacheEntries().filter((e) => e.source === `dns:mixed.${ZONE}`).length, 1, 'one resolve loop');
  });
});
