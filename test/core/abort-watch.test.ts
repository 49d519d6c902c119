import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { AbortWatch } from '../../src/core/abort-watch.js';

describe('AbortWatch', () => {
  it('one listener per signal, however many items wait on it; it goes with the last item', () => {
    const aborted: [string, unknown][] = [];
    const watch = new AbortWatch<string>((item, reason) => aborted.push([item, reason]));
    const controller = new AbortController();
    for (const item of ['a', 'b', 'c']) watch.watch(controller.signal, item);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    watch.unwatch(controller.signal, 'b');
    controller.abort('stop');
    assert.deepEqual(aborted, [['a', 'stop'], ['c', 'stop']]);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);

    const other = new AbortController();
    watch.watch(other.signal, 'd');
    watch.unwatch(other.signal, 'd');
    assert.equal(getEventListeners(other.signal, 'abort').length, 0, 'the last unwatch removes the listener');
  });

  it('a signal that cannot be listened to once leaves nothing behind: the next watch listens and sees the abort', () => {
    const aborted: string[] = [];
    const watch = new AbortWatch<string>((item) => aborted.push(item));
    const controller = new AbortController();
    const signal = controller.signal;
    const listen = signal.addEventListener.bind(signal);
    let calls = 0;
    signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      if (calls++ === 0) throw new Error('not now');
      listen(...args);
    }) as AbortSignal['addEventListener'];
    assert.throws(() => watch.watch(signal, 'first'), /not now/);
    watch.watch(signal, 'second');
    controller.abort();
    assert.deepEqual(aborted, ['second']);
  });
});
