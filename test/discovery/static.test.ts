import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError, staticEndpoints, type ResolverUpdate } from '../../src/index.js';

describe('staticEndpoints', () => {
  it('delivers the validated set synchronously on subscribe', () => {
    const updates: ResolverUpdate[] = [];
    const resolver = staticEndpoints(['127.0.0.1:1', { host: '::1', port: 2, weight: 3 }]);
    const stop = resolver.subscribe({ onUpdate: (u) => updates.push(u), onError: () => {} });
    assert.equal(updates.length, 1);
    assert.equal(updates[0]?.source, 'static');
    assert.deepEqual(updates[0]?.endpoints.map((e) => [e.id, e.weight]), [['127.0.0.1:1', 1], ['[::1]:2', 3]]);
    stop();
  });

  it('rejects an empty list and duplicates at creation', () => {
    assert.throws(() => staticEndpoints([]), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG'));
    assert.throws(() => staticEndpoints(['127.0.0.1:1', '127.0.0.1:1']), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'endpoints[1]');
  });
});
