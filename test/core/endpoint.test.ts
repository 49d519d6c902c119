import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError, toEndpoint } from '../../src/index.js';

describe('toEndpoint', () => {
  it('parses host:port strings, IPv6 in brackets', () => {
    const v4 = toEndpoint('127.0.0.1:8080', 'e');
    assert.deepEqual({ ...v4 }, { id: '127.0.0.1:8080', host: '127.0.0.1', port: 8080, weight: 1, zone: undefined, tags: [], metadata: {} });
    const v6 = toEndpoint('[::1]:9000', 'e');
    assert.equal(v6.host, '::1');
    assert.equal(v6.id, '[::1]:9000');
  });

  it('keeps weight, zone, tags and metadata, frozen', () => {
    const endpoint = toEndpoint({ host: 'localhost', port: 1, weight: 3, zone: 'a', tags: ['v2'], metadata: { k: 'v' } }, 'e');
    assert.equal(endpoint.weight, 3);
    assert.equal(endpoint.zone, 'a');
    assert.deepEqual(endpoint.tags, ['v2']);
    assert.deepEqual(endpoint.metadata, { k: 'v' });
    assert.ok(Object.isFrozen(endpoint) && Object.isFrozen(endpoint.tags) && Object.isFrozen(endpoint.metadata));
  });

  const bad: [unknown, string][] = [
    ['127.0.0.1', 'e'], ['127.0.0.1:0', 'e.port'], ['127.0.0.1:65536', 'e.port'], [{ host: 'a', port: 1.5 }, 'e.port'],
    [{ host: 'a b', port: 1 }, 'e.host'], [{ host: 'a', port: 1, weight: -1 }, 'e.weight'], [{ host: 'a', port: 1, zone: '' }, 'e.zone'],
    [{ host: 'a', port: 1, tags: [1] }, 'e.tags'], [{ host: 'a', port: 1, metadata: { k: 1 } }, 'e.metadata'], [null, 'e'],
  ];
  for (const [input, option] of bad) {
    it(`rejects ${JSON.stringify(input)} naming ${option}`, () => {
      assert.throws(() => toEndpoint(input as never, 'e'), (error: unknown) =>
        isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === option);
    });
  }
});
