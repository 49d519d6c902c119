import { systemClock, type Clock } from '../core/clock.js';
import { invalidConfig } from '../core/errors.js';

const CLOCK_METHODS = ['now', 'random', 'setTimeout', 'clearTimeout'] as const;

/** Reads a `clock` option: undefined gives the system clock; anything without the four Clock methods is `ERR_INVALID_CONFIG`. */
export function readClock(value: unknown, option: string): Clock {
  if (value === undefined) return systemClock;
  const ok = typeof value === 'object' && value !== null
    && CLOCK_METHODS.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');
  if (!ok) throw invalidConfig(option, 'a Clock (now, random, setTimeout, clearTimeout)', value);
  return value as Clock;
}
