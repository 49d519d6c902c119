import { CallRecord } from '../../src/attempts/call-record.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { client, isMeshkitError, roundRobin, subsets, toEndpoint, type Endpoint } from '../../src/index.js';
import { functionClassifier, functionTransport } from '../../src/transports/function.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

const versioned = (port: number, version: string): Endpoint =>
  toEndpoint({ host: '127.0.0.1', port, metadata: { version }, tags: version === 'v2' ? ['canary'] : [] }, 'e');

function call(subset?: string): CallRecord {
  return new CallRecord('s', undefined, functionTransport, functionClassifier, 0, Infinity, true, true, undefined, undefined, subset);
}

const fleet = [versioned(1, 'v1'), versioned(2, 'v1'), versioned(3, 'v1'), versioned(4, 'v2')];
const options = { subsets: { v1: { metadata: { version: 'v1' } }, v2: { tags: ['canary'] } } };

describe('subsets', () => {
  it('splits calls between subsets by weight (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 99 }), fc.integer(), (canaryPercent, seed) => {
      const picker = subsets({ ...options, split: { v1: 100 - canaryPercent, v2: canaryPercent } }, roundRobin())
        .create({ service: 's', clock: new VirtualClock(0, seed) }).update(fleet);
      let canary = 0;
      const n = 4000;
      for (let i = 0; i < n; i++) if ((picker.pick(call()) as Endpoint).metadata['version'] === 'v2') canary++;
      const expected = canaryPercent / 100;
      const sd = Math.sqrt((expected * (1 - expected)) / n);
      assert.ok(Math.abs(canary / n - expected) < 5 * sd + 0.005, `canary share ${canary / n} vs ${expected}`);
    }), { numRuns: 30 });
  });

  it('sends a call that names a subset only to its endpoints, and others everywhere without a split', () => {
    const picker = subsets(options, roundRobin()).create({ service: 's', clock: new VirtualClock() }).update(fleet);
    for (let i = 0; i < 20; i++) assert.equal(picker.pick(call('v2'))?.port, 4);
    for (let i = 0; i < 20; i++) assert.notEqual(picker.pick(call('v1'))?.port, 4);
    const ports = new Set(Array.from({ length: 8 }, () => picker.pick(call())?.port));
    assert.equal(ports.size, 4);
    assert.throws(() => picker.pick(call('v3')), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_ARGUMENT'));
  });

  it("falls back to any endpoint for an empty subset, or to none with fallback: 'none'", () => {
    const onlyV1 = fleet.slice(0, 3);
    const any = subsets(options, roundRobin()).create({ service: 's', clock: new VirtualClock() }).update(onlyV1);
    assert.ok(any.pick(call('v2')) !== undefined);
    const none = subsets({ ...options, fallback: 'none' }, roundRobin()).create({ service: 's', clock: new VirtualClock() }).update(onlyV1);
    assert.equal(none.pick(call('v2')), undefined);
  });

  it('rejects bad options naming them', () => {
    for (const [bad, option] of [
      [{ subsets: {} }, 'subsets.subsets'],
      [{ subsets: { v1: {} } }, 'subsets.subsets.v1'],
      [{ subsets: { v1: { tags: [1] } } }, 'subsets.subsets.v1.tags'],
      [{ ...options, split: { v9: 1 } }, 'subsets.split.v9'],
      [{ ...options, split: { v1: -1 } }, 'subsets.split.v1'],
      [{ ...options, split: { v1: 0 } }, 'subsets.split'],
      [{ ...options, fallback: 'some' }, 'subsets.fallback'],
    ] as const) {
      assert.throws(() => client('x').endpoints(['127.0.0.1:1']).subsets(bad as never), (e: unknown) =>
        isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option);
    }
  });

  it('runs a 90/10 canary split against real servers, and pins calls that ask for v2', async (t) => {
    const ups = await startUpstreams([{}, {}, {}, {}]);
    t.after(() => Promise.all(ups.map((u) => u.close())));
    const endpoints = ups.map((u, i) => ({ host: '127.0.0.1', port: u.port, metadata: { version: i === 3 ? 'v2' : 'v1' } }));
    await using c = client('canary').endpoints(endpoints)
      .subsets({ subsets: { v1: { metadata: { version: 'v1' } }, v2: { metadata: { version: 'v2' } } }, split: { v1: 90, v2: 10 } }).build();
    for (let i = 0; i < 400; i++) await (await c.request({ path: '/' })).body.dump();
    const canaryShare = (ups[3] as Upstream).requests.length / 400;
    assert.ok(canaryShare > 0.04 && canaryShare < 0.17, `canary got ${canaryShare}`);
    const before = (ups[3] as Upstream).requests.length;
    for (let i = 0; i < 10; i++) await (await c.request({ path: '/', subset: 'v2' })).body.dump();
    assert.equal((ups[3] as Upstream).requests.length - before, 10);
    await assert.rejects(c.request({ path: '/', subset: 'v3' }), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_ARGUMENT'));
  });
});
