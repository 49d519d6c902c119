import type { Clock } from '../core/clock.js';

/**
 * Waits for `work` up to `timeoutMs` on `clock`; true when it settled in time
 * (fulfilled or rejected), false when the bound ran out first. The timer is
 * kept alive: `close()` is what the caller awaits, even if nothing else holds
 * the process open.
 */
export async function settledWithin(clock: Clock, work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  const done = work.then(() => true as const, () => true as const);
  let timer: unknown;
  const timedOut = new Promise<false>((resolve) => {
    timer = clock.setTimeout(() => resolve(false), Math.max(0, timeoutMs), true);
  });
  const finished = await Promise.race([done, timedOut]);
  clock.clearTimeout(timer);
  return finished;
}
