// Calls the "orders" client over and over, one call at a time, so the
// exporters always have something fresh to show.

/** A loop of calls that can be stopped. */
export interface CallLoop {
  /** Calls completed so far (any status). */
  calls(): number;
  /** Calls that rejected (after meshkit's retries). */
  failures(): number;
  /** Stops scheduling calls and waits for the one in flight. */
  stop(): Promise<void>;
}

/**
 * Runs `call(n)` (n = 1, 2, ...) with `intervalMs` between the end of one
 * call and the start of the next; a rejection is counted and passed to
 * `onError`, and the loop goes on.
 */
export function startCallLoop(call: (n: number) => Promise<void>, intervalMs: number, onError: (error: unknown) => void): CallLoop {
  let calls = 0;
  let failures = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const next = (): void => {
    timer = undefined;
    if (stopped) return;
    inFlight = call(calls + 1).then(
      () => {
        calls++;
      },
      (error: unknown) => {
        calls++;
        failures++;
        onError(error);
      },
    ).then(() => {
      // The servers keep the process alive; the loop alone should not.
      if (!stopped) timer = setTimeout(next, intervalMs).unref();
    });
  };
  next();
  return {
    calls: () => calls,
    failures: () => failures,
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await inFlight;
    },
  };
}
