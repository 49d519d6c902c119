import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConsulAnswerError, nextIndex, parseHealthAnswer } from '../../src/consul/index.js';
import { isMeshkitError } from '../../src/index.js';

const entry = (service: Record<string, unknown>, node: Record<string, unknown> = { Address: '127.0.0.1' }): unknown => ({ Node: node, Service: service, Checks: [] });

describe('Consul health answer parsing', () => {
  it('maps address (with Node.Address fallback), weight, zone, tags and metadata', () => {
    const { endpoints, rejected } = parseHealthAnswer([
      entry({ Address: '127.0.0.2', Port: 80, Tags: ['v2'], Meta: { zone: 'a', team: 't' }, Weights: { Passing: 3, Warning: 1 } }),
      entry({ Address: '', Port: 81, Tags: null, Meta: null }, { Address: '127.0.0.1' }),
      entry({ Address: '::1', Port: 82 }),
    ], [], 'consul:s');
    assert.deepEqual(rejected, []);
    assert.deepEqual(endpoints.map((e) => [e.id, e.weight, e.zone, e.tags, e.metadata]), [
      ['127.0.0.2:80', 3, 'a', ['v2'], { zone: 'a', team: 't' }],
      ['127.0.0.1:81', 1, undefined, [], {}],
      ['[::1]:82', 1, undefined, [], {}],
    ]);
  });

  it('weighs an entry with a check in warning by Weights.Warning (default 1), as Consul does', () => {
    const weights = { Passing: 10, Warning: 2 };
    const warned = (checks: unknown): unknown => ({ Node: { Address: '127.0.0.1' }, Service: { Address: '127.0.0.1', Port: 80, Weights: weights }, Checks: checks });
    const weightOf = (e: unknown): number | undefined => parseHealthAnswer([e], [], 'consul:s').endpoints[0]?.weight;
    assert.equal(weightOf(warned([{ Status: 'passing' }, { Status: 'warning' }])), 2);
    assert.equal(weightOf(warned([{ Status: 'passing' }])), 10);
    assert.equal(weightOf(warned('not a list')), 10, 'a malformed check list is not a warning');
    assert.equal(weightOf({ Node: { Address: '127.0.0.1' }, Service: { Address: '127.0.0.1', Port: 80, Weights: { Passing: 10 } }, Checks: [{ Status: 'warning' }] }), 1);
  });

  it("leaves out silently an entry whose applicable weight is 0 (Consul's \"send nothing\"), in warning or passing", () => {
    const weighted = (port: number, weights: unknown, status: string): unknown =>
      ({ Node: { Address: '127.0.0.1' }, Service: { Address: '127.0.0.1', Port: port, Weights: weights }, Checks: [{ Status: status }] });
    const { endpoints, rejected } = parseHealthAnswer([
      weighted(80, { Passing: 5, Warning: 0 }, 'warning'),
      weighted(81, { Passing: 5, Warning: 0 }, 'passing'),
      weighted(82, { Passing: 0, Warning: 1 }, 'passing'),
      weighted(83, { Passing: 0, Warning: 1 }, 'warning'),
    ], [], 'consul:s');
    assert.deepEqual(rejected, [], 'not an invalid entry');
    assert.deepEqual(endpoints.map((e) => [e.port, e.weight]), [[81, 5], [83, 1]]);
    const onlyWarning = parseHealthAnswer([weighted(80, { Passing: 5, Warning: 0 }, 'warning')], [], 'consul:s');
    assert.deepEqual([onlyWarning.endpoints.length, onlyWarning.rejected.length], [0, 0], 'an answer of such entries only is an empty set, not a broken answer');
    assert.equal(parseHealthAnswer([weighted(80, { Passing: 5, Warning: -1 }, 'warning')], [], 'consul:s').rejected.length, 1, 'a negative weight is still invalid');
  });

  it('rejects an address no call could reach, one entry at a time; one instance in two spellings is listed twice', () => {
    const { endpoints, rejected } = parseHealthAnswer([
      entry({ Address: '127.0.0.1:8080', Port: 8080 }),
      entry({ Address: 'fe80::1%eth0', Port: 80 }),
      entry({ Address: '127.0.0.1', Port: 80 }),
      entry({ Address: '::ffff:127.0.0.1', Port: 80 }),
      entry({ Address: 'NODE-7.Example', Port: 81 }),
      entry({ Address: 'node-7.example', Port: 81 }),
    ], [], 'consul:s');
    assert.deepEqual(endpoints.map((e) => e.id), ['127.0.0.1:80', 'node-7.example:81']);
    assert.deepEqual(rejected.map((r) => [isMeshkitError(r.error, 'ERR_INVALID_CONFIG') ? r.error.details['option'] : undefined]), [
      ['consul:s[0].Service.host'], ['consul:s[1].Service.host'], ['consul:s[3]'], ['consul:s[5]'],
    ]);
    assert.match(rejected[0]?.error.message ?? '', /without ":port"/);
  });

  it('filters by required tags and rejects duplicates', () => {
    const { endpoints, rejected } = parseHealthAnswer([
      entry({ Address: '127.0.0.1', Port: 80, Tags: ['v2', 'blue'] }),
      entry({ Address: '127.0.0.1', Port: 81, Tags: ['v2'] }),
      entry({ Address: '127.0.0.1', Port: 80, Tags: ['v2', 'blue'] }),
    ], ['blue', 'v2'], 'consul:s');
    assert.deepEqual(endpoints.map((e) => e.port), [80]);
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]?.error.message ?? '', /listed twice/);
  });

  it('throws ConsulAnswerError when the answer is not an array', () => {
    for (const body of [null, {}, 'text', Buffer.from('<html>'), 42]) {
      assert.throws(() => parseHealthAnswer(body, [], 'consul:s'), ConsulAnswerError);
    }
  });

  it('property: never throws for array answers; every entry is kept, filtered or rejected', () => {
    const junk = fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string()));
    const service = fc.record({
      Address: fc.oneof(fc.constantFrom('', '127.0.0.1', '::1', 'host.example'), junk),
      Port: fc.oneof(fc.integer({ min: -5, max: 70_000 }), junk),
      Tags: fc.oneof(fc.array(fc.constantFrom('v1', 'v2')), junk),
      Meta: fc.oneof(fc.dictionary(fc.constantFrom('zone', 'k'), fc.string()), junk),
      Weights: fc.oneof(fc.record({ Passing: fc.oneof(fc.integer({ min: -2, max: 5 }), junk) }), junk),
    }, { requiredKeys: [] });
    const item = fc.oneof(junk, fc.record({ Node: fc.oneof(fc.record({ Address: fc.oneof(fc.constantFrom('', '127.0.0.9'), junk) }), junk), Service: fc.oneof(service, junk) }, { requiredKeys: [] }));
    fc.assert(fc.property(fc.array(item, { maxLength: 8 }), fc.subarray(['v1', 'v2']), (body, tags) => {
      const { endpoints, rejected } = parseHealthAnswer(body, tags, 'consul:s');
      assert.ok(endpoints.length + rejected.length <= body.length);
      for (const e of endpoints) {
        assert.ok(e.host !== '' && Number.isInteger(e.port) && e.port >= 1 && e.port <= 65535 && e.weight > 0);
        for (const tag of tags) assert.ok(e.tags.includes(tag));
      }
      assert.equal(new Set(endpoints.map((e) => e.id)).size, endpoints.length);
      for (const r of rejected) assert.ok(isMeshkitError(r.error, 'ERR_INVALID_CONFIG'));
      assert.ok(Object.isFrozen(endpoints));
    }), { numRuns: 500 });
  });

  it('resets the index when it is missing, 0, malformed or goes backwards', () => {
    assert.equal(nextIndex(undefined, 5n), undefined);
    assert.equal(nextIndex('0', 5n), undefined);
    assert.equal(nextIndex('-3', undefined), undefined);
    assert.equal(nextIndex('12abc', undefined), undefined);
    assert.equal(nextIndex('4', 5n), undefined);
    assert.equal(nextIndex('5', 5n), 5n);
    assert.equal(nextIndex(['9'], 5n), 9n);
    fc.assert(fc.property(fc.bigInt({ min: 1n, max: 2n ** 63n }), fc.option(fc.bigInt({ min: 1n, max: 2n ** 63n }), { nil: undefined }), (index, previous) => {
      const next = nextIndex(String(index), previous);
      assert.equal(next, previous !== undefined && index < previous ? undefined : index);
    }));
  });
});
