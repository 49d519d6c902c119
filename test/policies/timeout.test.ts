import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError } from '../../src/index.js';
import { resolveTimeouts } from '../../src/policies/timeout.js';

describe('resolveTimeouts', () => {
  it('defaults to no limits and parses durations', () => {
    assert.deepEqual({ ...resolveTimeouts({}) }, { perTry: Infinity, total: Infinity });
    assert.deepEqual({ ...resolveTimeouts({ perTry: '300ms', total: '2s' }) }, { perTry: 300, total: 2000 });
    assert.deepEqual({ ...resolveTimeouts({ perTry: 50 }) }, { perTry: 50, total: Infinity });
  });

  it('rejects zero, negatives, unknown units and a per-try above the total', () => {
    for (const [options, option] of [
      [{ perTry: 0 }, 'timeout.perTry'], [{ total: -1 }, 'timeout.total'], [{ total: '1 fortnight' }, 'timeout.total'],
      [{ perTry: '2s', total: '1s' }, 'timeout.perTry'], [null, 'timeout'],
    ] as const) {
      assert.throws(() => resolveTimeouts(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option);
    }
  });
});
