import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { BreakerEngine, shouldOpen, type CircuitState } from '../../src/breaker/engine.js';
import { DEFAULT_BREAKER_RULE, type BreakerRule } from '../../src/breaker/options.js';
import { RollingWindow } from '../../src/breaker/rolling-window.js';
import { breakerRotations } from '../../src/breaker/rotation.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

const engines: BreakerEngine[] = [];
afterEach(() => {
  for (const engine of engines.splice(0)) engine.shutdown();
  assert.deepEqual(breakerRotations(), [], 'every rotation released');
});

function engine(rule: Partial<BreakerRule>, clock = new VirtualClock()) {
  const changes: string[] = [];
  const e = new BreakerEngine({ ...DEFAULT_BREAKER_RULE, ...rule }, clock, (state: CircuitState, previous: CircuitState) => {
    changes.push(`${previous}->${state}`);
  });
  engines.push(e);
  return { e, clock, changes };
}

describe('the opening rule (shouldOpen): written once, for every breaker', () => {
  // [volumeThreshold, errorThreshold, calls, failures, opens]
  const table: [number, number, number, number, boolean][] = [
    [20, 0.5, 19, 19, false], // under the volume: never, however bad
    [20, 0.5, 20, 10, false], // exactly half failed: not more than half
    [20, 0.5, 20, 11, true], // more than half, at the volume
    [20, 0.5, 40, 21, true],
    [20, 0.5, 40, 20, false],
    [0, 0, 0, 0, false], // an empty window never opens
    [0, 0, 1, 0, false],
    [0, 0, 1, 1, true], // volume 0, threshold 0: the first failure opens
    [1, 0, 1, 1, true],
    [5, 0.2, 5, 1, false], // 20 % is not over 20 %
    [5, 0.2, 5, 2, true],
    [3, 0.99, 100, 99, false],
    [3, 0.99, 100, 100, true],
  ];
  for (const [volumeThreshold, errorThreshold, calls, failures, opens] of table) {
    it(`volume ${volumeThreshold}, threshold ${errorThreshold}: ${failures} of ${calls} failed ${opens ? 'opens' : 'stays closed'}`, () => {
      assert.equal(shouldOpen({ volumeThreshold, errorThreshold }, calls, failures), opens);
    });
  }

  it('the engine applies exactly that rule on each failure', () => {
    for (const [volumeThreshold, errorThreshold, calls, failures, opens] of table) {
      if (calls === 0 || failures === 0) continue;
      const { e } = engine({ volumeThreshold, errorThreshold });
      // Successes first, so that the last recorded call is the failure that decides.
      for (let i = 0; i < calls - failures; i++) e.record(true);
      for (let i = 0; i < failures - 1; i++) e.record(false);
      const openedEarly = e.state === 'open';
      e.record(false);
      const expected = opens || openedEarly;
      assert.equal(e.state, expected ? 'open' : 'closed', `volume ${volumeThreshold}, threshold ${errorThreshold}, ${failures}/${calls}`);
      e.shutdown();
    }
  });
});

describe('the breaker engine on the injected clock', () => {
  it('turns half-open after resetTimeout on a virtual clock, with no real time passing', async () => {
    const { e, clock, changes } = engine({ volumeThreshold: 1, errorThreshold: 0, resetTimeoutMs: 5_000 });
    e.record(false);
    assert.equal(e.state, 'open');
    assert.equal(e.retryAfterMs(), 5_000, 'measured on the clock');
    const started = performance.now();
    await clock.advance(4_999);
    assert.equal(e.state, 'open');
    assert.equal(e.retryAfterMs(), 1);
    await clock.advance(1);
    assert.equal(e.state, 'half-open');
    assert.equal(e.retryAfterMs(), 0);
    assert.ok(performance.now() - started < 4_000, 'the 5 s passed on the virtual clock only');
    assert.deepEqual(changes, ['closed->open', 'open->half-open']);
    assert.equal(clock.pendingTimers, 1, 'only the shared rotation is left');
  });

  it('a half-open success closes with an empty window; a half-open failure opens again for another resetTimeout', async () => {
    const { e, clock, changes } = engine({ volumeThreshold: 2, errorThreshold: 0.5, resetTimeoutMs: 100 });
    e.record(false);
    e.record(false);
    assert.equal(e.state, 'open');
    await clock.advance(100);
    e.record(false);
    assert.equal(e.state, 'open', 'the failed trial re-opens');
    assert.equal(e.opened, 2);
    assert.equal(e.since, 100, 'the state began at the re-opening, clock time');
    await clock.advance(100);
    assert.equal(e.state, 'half-open');
    e.record(true);
    assert.equal(e.state, 'closed');
    assert.deepEqual([e.window.calls, e.window.failures], [0, 0], 'a fresh window');
    assert.deepEqual(changes, ['closed->open', 'open->half-open', 'half-open->open', 'open->half-open', 'half-open->closed']);
  });

  it('counts calls that end while open without changing the state', () => {
    const { e } = engine({ volumeThreshold: 1, errorThreshold: 0, resetTimeoutMs: 100 });
    e.record(false);
    e.record(true);
    e.record(false);
    assert.equal(e.state, 'open');
    assert.equal(e.opened, 1);
    assert.deepEqual([e.window.calls, e.window.successes, e.window.failures], [3, 1, 2]);
  });

  it('open() forces a half-open breaker open again (a trial that proved nothing)', async () => {
    const { e, clock } = engine({ volumeThreshold: 1, errorThreshold: 0, resetTimeoutMs: 100 });
    e.record(false);
    await clock.advance(100);
    e.open();
    assert.equal(e.state, 'open');
    assert.equal(e.retryAfterMs(), 100);
    e.open();
    assert.equal(e.opened, 2, 'no-op while open');
  });

  it('the window rolls on the shared rotation of its clock', async () => {
    const { e, clock } = engine({ volumeThreshold: 100, windowMs: 1_000, buckets: 4 });
    e.record(false);
    await clock.advance(250);
    e.record(true);
    await clock.advance(500);
    assert.deepEqual([e.window.calls, e.window.failures], [2, 1]);
    await clock.advance(250);
    assert.deepEqual([e.window.calls, e.window.failures], [1, 0], 'the first bucket rolled out');
    await clock.advance(250);
    assert.equal(e.window.calls, 0);
  });

  it('shutdown() releases the reset timer and the rotation; records nothing after', () => {
    const clock = new VirtualClock();
    const { e } = engine({ volumeThreshold: 1, errorThreshold: 0 }, clock);
    e.record(false);
    assert.equal(clock.pendingTimers, 2, 'rotation + reset timer');
    e.shutdown();
    e.shutdown();
    assert.equal(clock.pendingTimers, 0);
    assert.equal(e.active, false);
    e.record(false);
    assert.equal(e.window.calls, 1);
  });
});

describe('rolling window', () => {
  it('keeps running totals across rotations and clears', () => {
    const w = new RollingWindow(3);
    w.record(true);
    w.record(false);
    w.rotate();
    w.record(false);
    w.rotate();
    w.record(true);
    assert.deepEqual([w.calls, w.successes, w.failures], [4, 2, 2]);
    w.rotate(); // drops the first bucket
    assert.deepEqual([w.calls, w.successes, w.failures], [2, 1, 1]);
    w.clear();
    assert.deepEqual([w.calls, w.failures], [0, 0]);
    const one = new RollingWindow(1);
    one.record(false);
    one.rotate();
    assert.equal(one.calls, 0, 'one bucket: each rotation empties it');
  });
});
