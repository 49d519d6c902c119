import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { etcd } from '../../src/etcd/index.js';
import {
  allowCidrs, client, isMeshkitError, RejectedAnswerError, roundRobin, subscribe,
  type DiscoveryErrorMessage, type DiscoveryRejectedMessage,
} from '../../src/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { etcdFixture, uniqueService, value, waitFor } from './fixture.js';

/** The etcd keys a rejected-answer error names, sorted. */
const keysOf = (error: Error | undefined): string[] =>
  error instanceof RejectedAnswerError ? error.rejected.map((r) => (r.entry as { key: string }).key).sort() : [];

describe('etcd: a prefix whose every value is invalid keeps the last good set (real etcd)', () => {
  const fixture = etcdFixture();
  let upstreams: Upstream[] = [];
  before(async () => {
    await fixture.before();
    upstreams = await startUpstreams([{}, {}]);
  });
  after(async () => {
    await Promise.all(upstreams.map((u) => u.close()));
    await fixture.after();
  });

  it('non-JSON values and 0.0.0.0 / :: addresses: rejected one by one; when no valid value is left the set stays, stale, with every entry reported', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const [a, b] = upstreams as [Upstream, Upstream];
    const service = uniqueService('all-invalid');
    const prefix = `/meshkit/services/${service}/`;
    const kv = fixture.kv();
    const errors: DiscoveryErrorMessage[] = [];
    const rejected: DiscoveryRejectedMessage[] = [];
    t.after(subscribe('discoveryError', (m) => {
      if (m.service === service) errors.push(m);
    }));
    t.after(subscribe('discoveryRejected', (m) => {
      if (m.service === service) rejected.push(m);
    }));
    await kv.put(`${prefix}a`).value(value(a.port));
    await using orders = client(service).balancer(roundRobin()).discovery(etcd({ service, hosts: server.url })).retry(false).build();
    await waitFor('the first set', () => orders.endpoints().endpoints.length === 1);

    // Partly invalid: the bad values are rejected one by one, the good one stays.
    await kv.put(`${prefix}not-json`).value('host=127.0.0.1 port=80');
    await kv.put(`${prefix}any-v4`).value(JSON.stringify({ host: '0.0.0.0', port: b.port }));
    await kv.put(`${prefix}any-v6`).value(JSON.stringify({ host: '::', port: b.port }));
    await waitFor('three rejections', () => rejected.length === 3, 2000);
    assert.deepEqual(rejected.map((m) => (m.entry as { key: string }).key).sort(), [`${prefix}any-v4`, `${prefix}any-v6`, `${prefix}not-json`]);
    assert.match(rejected.find((m) => (m.entry as { key: string }).key === `${prefix}any-v4`)?.error.message ?? '', /this host/);
    assert.equal(orders.endpoints().stale, false);
    assert.deepEqual(orders.endpoints().endpoints.map((e) => e.port), [a.port]);

    // The last valid value goes: every value left is invalid. The set stays, stale, and the error names every entry.
    await kv.delete().key(`${prefix}a`);
    await waitFor('the error', () => errors.length === 1, 2000);
    const snapshot = orders.endpoints();
    assert.deepEqual(snapshot.endpoints.map((e) => e.port), [a.port], 'the last good set stays in use');
    assert.equal(snapshot.stale, true);
    assert.ok(snapshot.lastError instanceof RejectedAnswerError);
    assert.ok(isMeshkitError(errors[0]?.error, 'ERR_INVALID_CONFIG'));
    assert.equal(errors[0]?.error, snapshot.lastError);
    assert.deepEqual(keysOf(snapshot.lastError), [`${prefix}any-v4`, `${prefix}any-v6`, `${prefix}not-json`]);
    assert.equal((snapshot.lastError as RejectedAnswerError).rejected.find((r) => (r.entry as { key: string }).key === `${prefix}not-json`)?.error
      .message.includes('JSON'), true, 'each entry says why');
    const res = await orders.request({ path: '/' });
    assert.equal(res.statusCode, 200, 'calls go on to the last good set');
    await res.body.dump();

    // Another bad value while stale: a new error naming all four.
    await kv.put(`${prefix}zero-port`).value(JSON.stringify({ host: '127.0.0.1', port: 0 }));
    await waitFor('a second error', () => errors.length === 2, 2000);
    assert.equal(keysOf(orders.endpoints().lastError).length, 4);

    // A good value heals it; then deleting everything is a real "no instances": the set empties.
    await kv.put(`${prefix}b`).value(value(b.port));
    await waitFor('recovered', () => !orders.endpoints().stale && orders.endpoints().endpoints[0]?.port === b.port, 2000);
    await kv.delete().prefix(prefix);
    await waitFor('emptied', () => orders.endpoints().endpoints.length === 0, 2000);
    assert.equal(orders.endpoints().stale, false);
    assert.equal(errors.length, 2, 'an empty prefix is not an error');
    await assert.rejects(orders.request({ path: '/' }), (e: unknown) => isMeshkitError(e, 'ERR_NO_ENDPOINTS'));
  });

  it('a client whose first read finds only invalid values has no set and reports why', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const service = uniqueService('first-invalid');
    const prefix = `/meshkit/services/${service}/`;
    const kv = fixture.kv();
    await kv.put(`${prefix}x`).value('{"host": "127.0.0.1", "port":');
    await using orders = client(service).discovery(etcd({ service, hosts: server.url })).build();
    await waitFor('the error', () => orders.endpoints().lastError !== undefined, 2000);
    assert.equal(orders.endpoints().ageMs, undefined, 'no set: nothing was valid');
    assert.deepEqual(keysOf(orders.endpoints().lastError), [`${prefix}x`]);
  });

  it('endpointFilter: values outside the allowed blocks are rejected, and a prefix with none allowed keeps the last good set', async (t) => {
    const server = fixture.need(t);
    if (server === undefined) return;
    const [a] = upstreams as [Upstream];
    const service = uniqueService('filtered');
    const prefix = `/meshkit/services/${service}/`;
    const kv = fixture.kv();
    const rejected: DiscoveryRejectedMessage[] = [];
    t.after(subscribe('discoveryRejected', (m) => {
      if (m.service === service) rejected.push(m);
    }));
    await kv.put(`${prefix}a`).value(value(a.port));
    await kv.put(`${prefix}elsewhere`).value(JSON.stringify({ host: '127.0.0.2', port: a.port }));
    const provider = etcd({ service, hosts: server.url, endpointFilter: allowCidrs(['127.0.0.1/32']) });
    await using orders = client(service).discovery(provider).build();
    await waitFor('the first set', () => orders.endpoints().endpoints.length === 1);
    assert.deepEqual(orders.endpoints().endpoints.map((e) => e.host), ['127.0.0.1']);
    assert.deepEqual(rejected.map((m) => (m.entry as { host: string }).host), ['127.0.0.2']);
    // A client without the filter shares the watch and sees both.
    await using unfiltered = client(service).discovery(etcd({ service, hosts: server.url })).build();
    await waitFor('the unfiltered set', () => unfiltered.endpoints().endpoints.length === 2);
    await kv.delete().key(`${prefix}a`);
    await waitFor('the filtered client turns stale', () => orders.endpoints().stale, 2000);
    assert.deepEqual(orders.endpoints().endpoints.map((e) => e.host), ['127.0.0.1'], 'the last allowed set stays');
    assert.ok(orders.endpoints().lastError instanceof RejectedAnswerError);
    await waitFor('the unfiltered client follows', () => unfiltered.endpoints().endpoints.length === 1, 2000);
    assert.equal(unfiltered.endpoints().stale, false);
  });
});
