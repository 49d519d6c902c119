/** The warning code a throwing telemetry hook is reported with. */
export const HOOK_ERROR_CODE = 'MESHKIT_TELEMETRY_HOOK_ERROR';

/**
 * Wraps a user hook so that it can never break a call: a throw is swallowed
 * (the hook's result taken as undefined) and reported once per hook and
 * client, as a process warning with code `MESHKIT_TELEMETRY_HOOK_ERROR`.
 * Returns undefined when there is no hook.
 */
export function guardHook<A extends unknown[], R>(name: string, hook: ((...args: A) => R) | undefined): ((...args: A) => R | undefined) | undefined {
  if (hook === undefined) return undefined;
  let warned = false;
  return (...args: A): R | undefined => {
    try {
      return hook(...args);
    } catch (error) {
      if (warned) return undefined;
      warned = true;
      const detail = error instanceof Error ? error.stack ?? error.message : String(error);
      process.emitWarning(`meshkit: openTelemetry ${name} threw; calls go on without it (warned once): ${detail}`, { code: HOOK_ERROR_CODE });
      return undefined;
    }
  };
}
