import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeInstance, parseEtcdValue } from '../../src/etcd/index.js';
import { isMeshkitError } from '../../src/index.js';

describe('parseEtcdValue', () => {
  it('reads host, port and the optional fields', () => {
    const e = parseEtcdValue('/k/a', JSON.stringify({ host: '127.0.0.7', port: 8080, weight: 2, zone: 'eu-1', tags: ['v2'], metadata: { a: 'b' }, id: 'x' }));
    assert.deepEqual({ ...e }, { id: '127.0.0.7:8080', host: '127.0.0.7', port: 8080, weight: 2, zone: 'eu-1', tags: ['v2'], metadata: { a: 'b' } });
    assert.ok(Object.isFrozen(e));
    const bare = parseEtcdValue('/k/b', '{"host":"::1","port":1}');
    assert.equal(bare.id, '[::1]:1');
    assert.equal(bare.weight, 1);
  });

  const bad: [string, string, string][] = [
    ['malformed JSON', '{"host":', 'etcd key /k'],
    ['not an object', '[1,2]', 'etcd key /k'],
    ['null', 'null', 'etcd key /k'],
    ['port as string', '{"host":"127.0.0.1","port":"80"}', 'etcd key /k.port'],
    ['port 0', '{"host":"127.0.0.1","port":0}', 'etcd key /k.port'],
    ['port 70000', '{"host":"127.0.0.1","port":70000}', 'etcd key /k.port'],
    ['empty host', '{"host":"","port":80}', 'etcd key /k.host'],
    ['host a number', '{"host":5,"port":80}', 'etcd key /k.host'],
    ['weight 0', '{"host":"h","port":80,"weight":0}', 'etcd key /k.weight'],
    ['tags not strings', '{"host":"h","port":80,"tags":[1]}', 'etcd key /k.tags'],
    ['metadata not strings', '{"host":"h","port":80,"metadata":{"a":1}}', 'etcd key /k.metadata'],
  ];
  for (const [name, text, option] of bad) {
    it(`rejects ${name} with ERR_INVALID_CONFIG naming the key`, () => {
      assert.throws(() => parseEtcdValue('/k', text), (error) => isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === option);
    });
  }

  it('never throws anything but ERR_INVALID_CONFIG, whatever the bytes (property)', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
      try {
        const e = parseEtcdValue('/k', text);
        assert.ok(e.port >= 1 && e.port <= 65535 && e.host !== '');
      } catch (error) {
        assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), String(error));
      }
    }), { numRuns: 2000 });
  });

  it('accepts every valid endpoint object and keeps its fields (property)', () => {
    const host = fc.oneof(fc.ipV4(), fc.domain());
    const entry = fc.record({
      host, port: fc.integer({ min: 1, max: 65535 }),
      weight: fc.option(fc.double({ min: 0.001, max: 1000, noNaN: true }), { nil: undefined }),
      tags: fc.option(fc.array(fc.string()), { nil: undefined }),
    }, { requiredKeys: ['host', 'port'] });
    fc.assert(fc.property(entry, (raw) => {
      const e = parseEtcdValue('/k', JSON.stringify(raw));
      assert.equal(e.host, raw.host);
      assert.equal(e.port, raw.port);
      assert.equal(e.weight, raw.weight ?? 1);
      assert.deepEqual([...e.tags], raw.tags ?? []);
    }), { numRuns: 1000 });
  });
});

describe('encodeInstance', () => {
  it('writes what the resolver reads back', () => {
    const text = encodeInstance({ service: 'orders', address: '127.0.0.1', port: 9000, zone: 'z1', tags: ['a'], metadata: { m: 'n' }, weight: 3 });
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.equal(parsed['id'], 'orders-127.0.0.1-9000');
    assert.equal(parsed['service'], 'orders');
    const e = parseEtcdValue('/k', text);
    assert.deepEqual([e.host, e.port, e.weight, e.zone, [...e.tags], { ...e.metadata }], ['127.0.0.1', 9000, 3, 'z1', ['a'], { m: 'n' }]);
  });

  it('rejects a bad instance before touching etcd', () => {
    assert.throws(() => encodeInstance({ service: 's', address: '', port: 80 }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'instance.host');
    assert.throws(() => encodeInstance({ service: 's', address: 'h', port: 0 }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'instance.port');
    assert.throws(() => encodeInstance({ service: 's', id: 'a/b', address: 'h', port: 80 }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'instance.id');
  });
});
