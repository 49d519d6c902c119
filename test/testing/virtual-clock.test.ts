import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { isMeshkitError, wallClockNow } from '../../src/index.js';
import { VirtualClock, VIRTUAL_EPOCH_MS } from '../../src/testing/index.js';

describe('VirtualClock', () => {
  it('fires timers in time order as time advances, and only then', async () => {
    const clock = new VirtualClock(100);
    const fired: [string, number][] = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 20);
    const cancelled = clock.setTimeout(() => fired.push(['x', clock.now()]), 5);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 10);
    clock.clearTimeout(cancelled);
    await clock.advance(15);
    assert.deepEqual(fired, [['a', 110]]);
    await clock.advance(15);
    assert.deepEqual(fired, [['a', 110], ['b', 120]]);
    assert.equal(clock.now(), 130);
  });

  it('repeats its random sequence for a seed, within [0, 1)', () => {
    const a = new VirtualClock(0, 42);
    const b = new VirtualClock(0, 42);
    const values = Array.from({ length: 1000 }, () => a.random());
    assert.deepEqual(values, Array.from({ length: 1000 }, () => b.random()));
    assert.ok(values.every((v) => v >= 0 && v < 1));
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05);
  });

  it('gives wall time: its epoch (default 2026-01-01) plus its time, which wallClockNow reads', async () => {
    const clock = new VirtualClock(500);
    assert.equal(VIRTUAL_EPOCH_MS, Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(clock.wallNow(), VIRTUAL_EPOCH_MS + 500);
    await clock.advance(1500);
    assert.equal(wallClockNow(clock), VIRTUAL_EPOCH_MS + 2000);
    assert.equal(new VirtualClock(0, 1, 1_000_000).wallNow(), 1_000_000);
    assert.throws(() => new VirtualClock(0, 1, 'soon' as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /epoch/.test(e.message));
  });

  it('fires timers due at the same time in the order they were set; a handle cleared after it fired changes nothing', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const handles = [3, 1, 2].map((n) => clock.setTimeout(() => fired.push(n), 10));
    const later = clock.setTimeout(() => fired.push(4), 20);
    assert.equal(clock.pendingTimers, 4);
    await clock.advance(10);
    assert.deepEqual(fired, [3, 1, 2]);
    for (const handle of handles) clock.clearTimeout(handle);
    clock.clearTimeout('not a handle');
    assert.equal(clock.pendingTimers, 1, 'only the 20 ms timer is left');
    clock.clearTimeout(later);
    assert.equal(clock.pendingTimers, 0);
    await clock.advance(20);
    assert.deepEqual(fired, [3, 1, 2]);
  });

  it('keeps timers in a heap: ten times the pending timers costs about ten times, not a hundred (the scan it replaced)', async () => {
    const run = async (count: number): Promise<number> => {
      const clock = new VirtualClock(0, 9);
      let fired = 0;
      for (let i = 0; i < count; i++) clock.setTimeout(() => { fired++; }, Math.floor(clock.random() * 1_000_000));
      const start = performance.now();
      await clock.advance(1_000_000);
      assert.equal(fired, count);
      return performance.now() - start;
    };
    await run(2_000); // warm-up
    const small = await run(2_000);
    const large = await run(20_000);
    assert.ok(large / small < 40, `20,000 timers took ${large.toFixed(1)} ms, 2,000 took ${small.toFixed(1)} ms`);
  });
});
