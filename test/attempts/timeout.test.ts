import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError } from '../../src/index.js';
import { resolveTimeouts } from '../../src/attempts/timeout.js';

describe('resolveTimeouts', () => {
  it('defaults to no limits and parses durations', () => {
    assert.deepEqual({ ...resolveTimeouts({}) }, { perTry: Infinity, total: Infinity, bodyTimeout: 300_000 });
    assert.deepEqual({ ...resolveTimeouts({ perTry: '300ms', total: '2s' }) }, { perTry: 300, total: 2000, bodyTimeout: 300 });
    assert.deepEqual({ ...resolveTimeouts({ perTry: 50 }) }, { perTry: 50, total: Infinity, bodyTimeout: 50 });
  });

  it('takes a body timeout: the per-try timeout by default, undici\'s 300 s without one, Infinity for none', () => {
    assert.equal(resolveTimeouts({ total: '2s' }).bodyTimeout, 300_000);
    assert.equal(resolveTimeouts({ perTry: '300ms', bodyTimeout: '5s' }).bodyTimeout, 5000);
    assert.equal(resolveTimeouts({ bodyTimeout: Infinity }).bodyTimeout, Infinity);
    assert.equal(resolveTimeouts({ perTry: 100, bodyTimeout: 'Infinity' }).bodyTimeout, Infinity);
  });

  it('rejects zero, negatives, unknown units, a per-try above the total and unknown keys', () => {
    for (const [options, option] of [
      [{ perTry: 0 }, 'timeout.perTry'], [{ total: -1 }, 'timeout.total'], [{ total: '1 fortnight' }, 'timeout.total'],
      [{ perTry: '2s', total: '1s' }, 'timeout.perTry'], [null, 'timeout'],
      [{ bodyTimeout: 0 }, 'timeout.bodyTimeout'], [{ bodyTimeout: '-1s' }, 'timeout.bodyTimeout'],
      [{ bodyTimeout: '30d' }, 'timeout.bodyTimeout'], [{ bodyTimeout: true }, 'timeout.bodyTimeout'],
      [{ perTyr: '1s' }, 'timeout.perTyr'], [{ bodyTimout: '1s' }, 'timeout.bodyTimout'],
    ] as const) {
      assert.throws(() => resolveTimeouts(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option);
    }
    assert.throws(() => resolveTimeouts({ bodyTimout: '1s' } as never), /did you mean `bodyTimeout`/);
  });
});
