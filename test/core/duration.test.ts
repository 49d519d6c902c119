import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError, parseDuration } from '../../src/index.js';

describe('parseDuration', () => {
  it('reads numbers as milliseconds and strings with units', () => {
    assert.equal(parseDuration(250, 'x'), 250);
    assert.equal(parseDuration('250', 'x'), 250);
    assert.equal(parseDuration('250ms', 'x'), 250);
    assert.equal(parseDuration('2s', 'x'), 2000);
    assert.equal(parseDuration('1.5s', 'x'), 1500);
    assert.equal(parseDuration('1m30s', 'x'), 90_000);
    assert.equal(parseDuration('1h', 'x'), 3_600_000);
    assert.equal(parseDuration('500us', 'x'), 0.5);
    assert.equal(parseDuration(' 3s ', 'x'), 3000);
  });

  for (const bad of [-1, Number.NaN, Infinity, '', 'fast', '5 s', '2d', '1s2', 's', '-3ms', null, {}, true]) {
    it(`rejects ${String(bad)} with ERR_INVALID_CONFIG naming the option`, () => {
      assert.throws(() => parseDuration(bad, 'timeout.total'), (error: unknown) =>
        isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === 'timeout.total');
    });
  }
});
