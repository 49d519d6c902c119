import type { CallContext } from './call-context.js';
import type { Clock } from './clock.js';
import type { Invoke, Policy } from './policy.js';

/**
 * A policy's admission decision in synchronous form: the executor runs it in
 * line, so a call through several admission policies makes no promise per
 * policy (each `wrap` stage makes one, plus a microtask hop each way, about
 * 150-300 ns a policy on the success path).
 *
 * Contract:
 * - `admit(call)` runs when the call reaches the executor, before its first
 *   attempt, outermost gate first. It returns `undefined` to let the call on,
 *   or the error to refuse it with (the caller receives that error; no
 *   attempt is made). It must not wait for anything: a policy that may have
 *   to queue the call offers no gate for that configuration.
 * - `release(call, error)` runs exactly once for every call this gate
 *   admitted, when the call has its final result and before the caller sees
 *   it, innermost gate first. `error` is what the caller will get, or
 *   `undefined` when the call resolves (an HTTP 5xx response resolves:
 *   `call.current.outcome` says how the final attempt went). A call refused by
 *   an inner gate is released by the outer ones with that refusal, as a
 *   `wrap` stage would see it.
 * - Neither may throw on purpose; the executor reports a throwing `admit` as
 *   the call's error and keeps going after a throwing `release`.
 */
export interface AdmissionGate {
  admit(call: CallContext): Error | undefined;
  release(call: CallContext, error: unknown): void;
}

/** What a policy's `admission` (see {@link Policy}) learns about the client that runs its gate. */
export interface AdmissionEnvironment {
  /**
   * The client's clock. When it is the policy's own, the gate may read
   * `call.admittedAt` (this clock's time when the call reached the gates)
   * instead of reading the clock again.
   */
  readonly clock: Clock;
}

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
