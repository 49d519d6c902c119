import type { CallObserver } from './call-observer.js';

/** Warns once per observer and method, so a broken observer is seen without flooding the log. */
function warnOnce(warned: Set<string>, observer: string, method: string, error: unknown): void {
  const key = `${observer}.${method}`;
  if (warned.has(key)) return;
  warned.add(key);
  const detail = error instanceof Error ? error.stack ?? error.message : String(error);
  process.emitWarning(`meshkit: call observer ${key} threw; calls go on without it (warned once): ${detail}`, {
    code: 'MESHKIT_OBSERVER_ERROR',
  });
}

/**
 * Combines observers into one whose every method runs each observer's in
 * order, each in a guard: a throwing observer is reported (once, as a process
 * warning with code `MESHKIT_OBSERVER_ERROR`) and never breaks a call.
 * Returns undefined when there is none, so clients without telemetry pay
 * nothing.
 */
export function guardedObserver(observers: readonly { readonly name: string; readonly observer: CallObserver }[]): CallObserver | undefined {
  if (observers.length === 0) return undefined;
  const warned = new Set<string>();
  const each = <K extends 'attemptStart' | 'attemptEnd' | 'callEnd' | 'hedgeStart' | 'retryBudgetExhausted'>(method: K) => {
    const bound = observers
      .filter((o) => typeof o.observer[method] === 'function')
      .map((o) => ({ name: o.name, fn: (o.observer[method] as (...args: unknown[]) => void).bind(o.observer) }));
    if (bound.length === 0) return undefined;
    return (...args: unknown[]): void => {
      for (const { name, fn } of bound) {
        try {
          fn(...args);
        } catch (error) {
          warnOnce(warned, name, method, error);
        }
      }
    };
  };
  const combined: CallObserver = {};
  const starts = observers
    .filter((o) => typeof o.observer.callStart === 'function')
    .map((o) => ({ name: o.name, fn: (o.observer.callStart as (call: unknown) => boolean | void).bind(o.observer) }));
  // Wanted unless every observer declines; one that throws is treated as watching, so its later hooks still see the call.
  const callStart = starts.length === 0 ? undefined : (call: unknown): boolean => {
    let wanted = false;
    for (const { name, fn } of starts) {
      try {
        if (fn(call) !== false) wanted = true;
      } catch (error) {
        wanted = true;
        warnOnce(warned, name, 'callStart', error);
      }
    }
    return wanted;
  };
  const attemptStart = each('attemptStart');
  const attemptEnd = each('attemptEnd');
  const callEnd = each('callEnd');
  const hedgeStart = each('hedgeStart');
  const retryBudgetExhausted = each('retryBudgetExhausted');
  if (callStart !== undefined) combined.callStart = callStart as CallObserver['callStart'] & object;
  if (attemptStart !== undefined) combined.attemptStart = attemptStart;
  if (attemptEnd !== undefined) combined.attemptEnd = attemptEnd;
  if (callEnd !== undefined) combined.callEnd = callEnd;
  if (hedgeStart !== undefined) combined.hedgeStart = hedgeStart;
  if (retryBudgetExhausted !== undefined) combined.retryBudgetExhausted = retryBudgetExhausted;
  combined.close = async () => {
    await Promise.all(observers.map(async (o) => {
      try {
        await o.observer.close?.();
      } catch (error) {
        warnOnce(warned, o.name, 'close', error);
      }
    }));
  };
  return combined;
}
