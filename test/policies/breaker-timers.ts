import { trackTimers } from '../helpers/timers.js';

/**
 * True when the code that called `setTimeout`/`setInterval` is opossum or the
 * breaker's own files, src/breaker/ included (directly, or through the clock). Timers that other
 * code creates while a call runs inside the breaker (undici's) do not count.
 */
export function isBreakerTimer(stack: string): boolean {
  const lines = stack.split('\n');
  const at = lines.findIndex((line) => /at (setTimeout|setInterval) \(node:timers/.test(line));
  const callers = lines.slice(at + 1).filter((line) => !line.includes('(node:'));
  const [first = '', second = ''] = callers;
  const breaker = /[\\/]src[\\/](policies[\\/]circuit-breaker|breaker[\\/])/;
  return /[\\/]opossum[\\/]lib[\\/]/.test(first) || breaker.test(first) || (/[\\/]src[\\/]core[\\/]clock\./.test(first) && breaker.test(second));
}

/** Live Node timers created by opossum or the breaker's source files (unref'd ones included). */
export function trackBreakerTimers(): ReturnType<typeof trackTimers> {
  return trackTimers(isBreakerTimer);
}
