import { createHook } from 'node:async_hooks';

/** True when the code that created a timer is meshkit's own (compiled) source rather than a test or a library. */
function createdByMeshkit(stack: string): boolean {
  const lines = stack.split('\n');
  const at = lines.findIndex((line) => /at (setTimeout|setInterval) \(node:timers/.test(line));
  const caller = lines.slice(at + 1).find((line) => !line.includes('(node:')) ?? '';
  return /[\\/]src[\\/]/.test(caller);
}

/**
 * Counts Node timers (`Timeout` resources, ref'd or not) whose creating stack
 * `isOurs` accepts, and how many are still alive. Unref'd timers do not show
 * in `process.getActiveResourcesInfo()`, so a leak check needs this.
 */
export function trackTimers(isOurs: (stack: string) => boolean): { readonly created: number; readonly live: number; stop(): void } {
  const live = new Set<number>();
  let created = 0;
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout') return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 50;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      if (isOurs(stack)) {
        created++;
        live.add(id);
      }
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return {
    get created() {
      return created;
    },
    get live() {
      return live.size;
    },
    stop: () => hook.disable(),
  };
}

/** Timers created by meshkit's own source files. */
export function trackMeshkitTimers(): { readonly created: number; readonly live: number; stop(): void } {
  return trackTimers(createdByMeshkit);
}

/** Destroy hooks of cleared timers run a little later: give them a few turns. */
export async function settleTimerHooks(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 1));
}
