import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkedQueue } from '../../src/core/linked-queue.js';

class Item {
  prev: Item | undefined = undefined;
  next: Item | undefined = undefined;
  constructor(readonly name: string) {}
}

function names(queue: LinkedQueue<Item>): string[] {
  const out: string[] = [];
  for (let item = queue.head; item !== undefined; item = item.next) out.push(item.name);
  return out;
}

describe('LinkedQueue', () => {
  it('keeps FIFO order and removes from the head, the middle and the tail', () => {
    const queue = new LinkedQueue<Item>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => new Item(n)) as [Item, Item, Item, Item];
    for (const item of [a, b, c, d]) queue.push(item);
    assert.deepEqual([names(queue), queue.size], [['a', 'b', 'c', 'd'], 4]);
    assert.equal(queue.remove(b), true);
    assert.equal(queue.remove(a), true);
    assert.equal(queue.remove(d), true);
    assert.deepEqual([names(queue), queue.size], [['c'], 1]);
    queue.push(a);
    assert.deepEqual(names(queue), ['c', 'a'], 'the tail followed the removals');
  });

  it('refuses an item that is not queued, so a second removal (abort after timeout) is a no-op', () => {
    const queue = new LinkedQueue<Item>();
    const a = new Item('a');
    const b = new Item('b');
    assert.equal(queue.remove(a), false);
    queue.push(a);
    queue.push(b);
    assert.equal(queue.remove(b), true);
    assert.equal(queue.remove(b), false);
    assert.deepEqual([names(queue), queue.size], [['a'], 1]);
    assert.equal(queue.remove(a), true);
    assert.deepEqual([queue.head, queue.size], [undefined, 0]);
  });
});
