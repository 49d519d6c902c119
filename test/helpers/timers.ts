import { createHook } from 'node:async_hooks';

/** True when the code that created a timer is meshkit's own (compiled) source rather than a test or a library. */
function createdByMeshkit(stack: string): boolean {
  const lines = stack.split('\n');
  const at = lines.findIndex((line) => /at (setTimeout|setInterval) \(node:timers/.test(line));
  const caller = lines.slice(at + 1).find((line) => !line.includes('(node:')) ?? '';
  return /[\\/]src[\\/]/.test(caller);
}

/**
 * Counts Node timers created by meshkit's source files, ref'd or not, and how
 * many are still alive. Unref'd timers do not show in
 * `process.getActiveResourcesInfo()`, so a leak check needs this.
 */
export function trackMeshkitTimers(): { readonly created: number; readonly live: number; stop(): void } {
  const live = new Set<number>();
  let created = 0;
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout') return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 30;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      if (createdByMeshkit(stack)) {
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

/** Destroy hooks of cleared timers run a little later: give them a few turns. */
export async function settleTimerHooks(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 1));
}
