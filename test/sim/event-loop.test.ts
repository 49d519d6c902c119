import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimLoop } from '../../src/sim/event-loop.js';

describe('SimLoop', () => {
  it('runs events in time order, same-time events in the order scheduled', async () => {
    const loop = new SimLoop();
    const seen: string[] = [];
    loop.at(30, () => seen.push(`c@${loop.now()}`));
    loop.at(10, () => seen.push(`a@${loop.now()}`));
    loop.at(10, () => seen.push(`b@${loop.now()}`));
    await loop.run();
    assert.deepEqual(seen, ['a@10', 'b@10', 'c@30']);
  });

  it('lets promise reactions settle before time moves on', async () => {
    const loop = new SimLoop();
    const seen: string[] = [];
    loop.at(5, () => {
      void Promise.resolve().then(() => Promise.resolve()).then(() => {
        seen.push(`settled@${loop.now()}`);
        loop.clock.setTimeout(() => seen.push(`timer@${loop.now()}`), 0);
      });
    });
    loop.at(6, () => seen.push(`next@${loop.now()}`));
    await loop.run();
    assert.deepEqual(seen, ['settled@5', 'timer@5', 'next@6']);
  });

  it('cancels, and stops at the time it was asked to', async () => {
    const loop = new SimLoop();
    let fired = 0;
    const handle = loop.clock.setTimeout(() => fired++, 10);
    loop.clock.setTimeout(() => fired++, 50);
    loop.clock.clearTimeout(handle);
    assert.equal(loop.pending, 1);
    await loop.run(20);
    assert.equal(fired, 0);
    assert.equal(loop.now(), 20);
    await loop.run();
    assert.equal(fired, 1);
    assert.equal(loop.now(), 50);
  });

  it('keeps a large heap in order', async () => {
    const loop = new SimLoop({ seed: 7 });
    const random = loop.random('times');
    const times: number[] = [];
    const handles = [];
    for (let index = 0; index < 20_000; index++) {
      const at = Math.floor(random() * 1000);
      handles.push({ at, handle: loop.at(at, () => times.push(loop.now())) });
    }
    let cancelled = 0;
    for (let index = 0; index < handles.length; index += 3) {
      loop.cancel(handles[index]!.handle);
      cancelled++;
    }
    await loop.run();
    assert.equal(times.length, 20_000 - cancelled);
    for (let index = 1; index < times.length; index++) assert.ok(times[index]! >= times[index - 1]!);
  });

  it('gives the same numbers for the same seed and stream, other numbers for another stream', () => {
    const first = new SimLoop({ seed: 42 });
    const second = new SimLoop({ seed: 42 });
    const a = Array.from({ length: 5 }, first.random('x'));
    const b = Array.from({ length: 5 }, second.random('x'));
    const c = Array.from({ length: 5 }, second.random('y'));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    for (const value of [...a, ...c]) assert.ok(value >= 0 && value < 1);
  });

  it('refuses an unknown option and a bad seed', () => {
    assert.throws(() => new SimLoop({ sed: 1 } as never), { code: 'ERR_INVALID_CONFIG' });
    assert.throws(() => new SimLoop({ seed: 1.5 }), { code: 'ERR_INVALID_CONFIG' });
  });
});
