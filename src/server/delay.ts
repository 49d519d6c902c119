import type { Clock, TimerHandle } from '../core/clock.js';

/** A cancellable, unref'd wait: shutdown steps must not hold the process open, nor leave timers behind once settled. */
export interface Delay {
  readonly promise: Promise<void>;
  cancel(): void;
}

/**
 * Resolves after `ms` on `clock` unless cancelled (then it never resolves;
 * nothing waits on it any more). `ms` is a validated duration (at most Node's
 * timer limit).
 */
export function delay(ms: number, clock: Clock): Delay {
  let timer: TimerHandle;
  const promise = new Promise<void>((resolve) => {
    timer = clock.setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clock.clearTimeout(timer) };
}

/** Waits for `work` at most `ms`; returns whether it settled in time (its rejection counts as settled, and is returned). */
export async function within<T>(work: Promise<T>, ms: number, clock: Clock): Promise<{ done: true; value: T } | { done: true; error: unknown } | { done: false }> {
  const bound = delay(ms, clock);
  try {
    return await Promise.race([
      work.then((value) => ({ done: true as const, value }), (error: unknown) => ({ done: true as const, error })),
      bound.promise.then(() => ({ done: false as const })),
    ]);
  } finally {
    bound.cancel();
  }
}
