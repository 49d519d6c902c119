import type { AdmissionEnvironment, AdmissionGate } from './admission-gate.js';
import type { CallContext } from './call-context.js';
import type { Invoke, Policy } from './policy.js';

// The gate's interfaces live in admission-gate.ts (policy.ts needs them too, and
// imports nothing from here); re-exported so that policies keep one import.
export type { AdmissionEnvironment, AdmissionGate } from './admission-gate.js';

/** Policies split into those composed with `wrap` (outermost) and the gates the executor runs in line after them. */
export interface PipelineStages {
  readonly wrapped: readonly Policy[];
  readonly gates: readonly AdmissionGate[];
}

/**
 * Splits a client's policies: the longest run at the inner end (nearest the
 * executor) whose members offer a gate runs as gates; the rest wrap it as
 * before. Order is kept: an outer `wrap` still sees everything the gates do.
 */
export function splitPipeline(policies: readonly Policy[], environment: AdmissionEnvironment): PipelineStages {
  const gates: AdmissionGate[] = [];
  let i = policies.length;
  while (i > 0) {
    const gate = (policies[i - 1] as Policy).admission?.(environment);
    if (gate === undefined) break;
    gates.unshift(gate);
    i--;
  }
  return { wrapped: policies.slice(0, i), gates };
}

/**
 * A `wrap` stage built from a gate, for policies whose `wrap` and gate must
 * behave the same: admit, run the rest, release with what it settled with.
 */
export function wrapGate<T>(gate: AdmissionGate, next: Invoke<T>): Invoke<T> {
  return (call: CallContext): Promise<T> => {
    const refusal = admitSafely(gate, call);
    if (refusal !== undefined) return Promise.reject(refusal);
    let pending: Promise<T>;
    try {
      pending = next(call);
    } catch (error) {
      releaseSafely(gate, call, error);
      return Promise.reject(error);
    }
    return pending.then(
      (result) => {
        releaseSafely(gate, call, undefined);
        return result;
      },
      (error: unknown) => {
        releaseSafely(gate, call, error);
        throw error;
      },
    );
  };
}

/** @internal `gate.admit(call)`, with a throw turned into the call's refusal. */
export function admitSafely(gate: AdmissionGate, call: CallContext): unknown {
  try {
    return gate.admit(call);
  } catch (error) {
    return error ?? new Error('admission gate threw undefined');
  }
}

let warned = false;

/**
 * @internal `gate.release(call, error)`; a throw is a bug in the gate, reported once as
 * a process warning (code `MESHKIT_GATE_ERROR`) so that it never changes the
 * caller's result or skips the other gates' releases.
 */
export function releaseSafely(gate: AdmissionGate, call: CallContext, error: unknown): void {
  try {
    gate.release(call, error);
  } catch (thrown) {
    if (warned) return;
    warned = true;
    process.emitWarning(`an admission gate's release threw: ${String(thrown)}`, { code: 'MESHKIT_GATE_ERROR' });
  }
}

/**
 * @internal Runs `gates` in order, outermost first, counting in
 * `call.admitted` those that admitted the call; returns the first refusal,
 * or undefined when every gate admitted it.
 */
export function admitAll(gates: readonly AdmissionGate[], call: CallContext & { admitted: number }): unknown {
  for (let i = 0; i < gates.length; i++) {
    const refusal = admitSafely(gates[i] as AdmissionGate, call);
    if (refusal !== undefined) return refusal;
    call.admitted = i + 1;
  }
  return undefined;
}

/** @internal Releases the gates that admitted `call` (see {@link admitAll}), innermost first, as `wrap` stages would. */
export function releaseAdmitted(gates: readonly AdmissionGate[], call: CallContext & { admitted: number }, error: unknown): void {
  for (let i = call.admitted - 1; i >= 0; i--) releaseSafely(gates[i] as AdmissionGate, call, error);
  call.admitted = 0;
}
