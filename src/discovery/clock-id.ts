import type { Clock } from '../core/clock.js';

const clockIds = new WeakMap<Clock, number>();
let nextClockId = 1;

/**
 * A small number naming a clock, for the keys of shared watches: a clock
 * cannot go in a string key, and watches on different clocks (a test's
 * virtual clock, the system clock) must never be shared.
 */
export function clockId(clock: Clock): number {
  let id = clockIds.get(clock);
  if (id === undefined) clockIds.set(clock, (id = nextClockId++));
  return id;
}
