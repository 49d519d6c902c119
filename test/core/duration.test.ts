import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError, MAX_DURATION_MS, parseDuration, parseDurationOrInfinity, systemClock } from '../../src/index.js';


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

describe('durations are bounded by Node\'s timer limit (issue 11, finding 3)', () => {
  it('accepts up to 2^31 - 1 ms and refuses anything longer, in any unit', () => {
    assert.equal(parseDuration(MAX_DURATION_MS, 'x'), 2 ** 31 - 1);
    assert.equal(parseDuration('596h', 'x'), 596 * 3_600_000);
    for (const tooLong of [MAX_DURATION_MS + 1, '1000h', '597h', '99999999999', '35792m']) {
      assert.throws(() => parseDuration(tooLong, 'timeout.total'), (error: unknown) =>
        isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === 'timeout.total' && /24\.8 days/.test(error.message), String(tooLong));
    }
  });

  it('parseDurationOrInfinity takes an explicit Infinity as "no bound", and bounds everything else', () => {
    assert.equal(parseDurationOrInfinity(Infinity, 'x'), Infinity);
    assert.equal(parseDurationOrInfinity('Infinity', 'x'), Infinity);
    assert.equal(parseDurationOrInfinity('2s', 'x'), 2000);
    assert.throws(() => parseDurationOrInfinity('1000h', 'x'), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG'));
  });

  it('the builder refuses timeout.total: \'1000h\' instead of arming a timer that fires at once', () => {
    assert.throws(() => client('t').timeout({ total: '1000h' }), (error: unknown) =>
      isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === 'timeout.total');
  });

  it('the system clock never hands Node a timer past its limit (no TimeoutOverflowWarning)', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    process.on('warning', onWarning);
    try {
      let fired = false;
      const handle = systemClock.setTimeout(() => {
        fired = true;
      }, 1e12);
      await new Promise((resolve) => setTimeout(resolve, 20));
      systemClock.clearTimeout(handle);
      assert.equal(fired, false, 'a too-long timer does not fire at once');
      assert.deepEqual(warnings.filter((name) => name === 'TimeoutOverflowWarning'), []);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
