import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isMeshkitError } from '../../src/index.js';
import { backoffDelay, DEFAULT_RETRY, resolveRetry } from '../../src/attempts/retry.js';

describe('resolveRetry', () => {
  it('fills Envoy-like defaults and reads durations', () => {
    assert.deepEqual({ ...resolveRetry({}) }, { ...DEFAULT_RETRY, statuses: [502, 503, 504] });
    const custom = resolveRetry({ attempts: 4, backoff: { base: '10ms', cap: '1s' }, statuses: [429] });
    assert.deepEqual([custom.attempts, custom.baseMs, custom.capMs, custom.statuses], [4, 10, 1000, [429]]);
    assert.equal(resolveRetry(false).attempts, 1);
    assert.equal(resolveRetry({ backoff: { base: '400ms' } }).capMs, 400, 'the cap grows to a larger base');
  });

  it('rejects bad values naming the option', () => {
    const cases: [unknown, string][] = [
      [{ attempts: 11 }, 'retry.attempts'], [{ attempts: '3' }, 'retry.attempts'], [{ backoff: 5 }, 'retry.backoff'],
      [{ backoff: { cap: 'x' } }, 'retry.backoff.cap'], [{ statuses: 'all' }, 'retry.statuses'], [null, 'retry'],
      // A hole, as a stray comma makes one: every() would skip it.
      [{ statuses: [502, , 503] }, 'retry.statuses'], [{ statuses: [502, 600] }, 'retry.statuses'],
    ];
    for (const [options, option] of cases) {
      assert.throws(() => resolveRetry(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option);
    }
  });
});

describe('backoffDelay (full jitter)', () => {
  it('stays in [0, min(cap, base * 2^(n-1))) (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, random) => {
      const delay = backoffDelay(DEFAULT_RETRY, retry, random);
      const ceiling = Math.min(DEFAULT_RETRY.capMs, DEFAULT_RETRY.baseMs * 2 ** (retry - 1));
      assert.ok(delay >= 0 && delay < ceiling || (ceiling === 0 && delay === 0));
    }));
  });

  it('doubles the ceiling per retry up to the cap', () => {
    const nearlyOne = 0.999999;
    assert.ok(Math.abs(backoffDelay(DEFAULT_RETRY, 1, nearlyOne) - 25) < 0.01);
    assert.ok(Math.abs(backoffDelay(DEFAULT_RETRY, 2, nearlyOne) - 50) < 0.01);
    assert.ok(Math.abs(backoffDelay(DEFAULT_RETRY, 5, nearlyOne) - 250) < 0.01);
    assert.ok(Math.abs(backoffDelay(DEFAULT_RETRY, 20, nearlyOne) - 250) < 0.01);
  });
});
