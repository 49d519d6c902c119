import type { AdmissionEnvironment, AdmissionGate } from './admission-gate.js';
import type { CallContext } from './call-context.js';

/** Runs a call (or the rest of the pipeline) and settles with its result. */
export type Invoke<T = unknown> = (call: CallContext) => Promise<T>;

/**
 * One stage of the call pipeline: given the rest of the pipeline (`next`),
 * return a function that runs this stage around it. Policies added to the
 * builder first are outermost: the first one added sees the call first and the
 * result last. They wrap the whole call, retries included (a bulkhead or a
 * service-level breaker belongs here; per-attempt behaviour belongs in the
 * transport or the balancer).
 */
export interface Policy {
  /** A short name for errors, telemetry and `client.describe()`. */
  readonly name: string;
  wrap<T>(next: Invoke<T>): Invoke<T>;
  /**
   * Optional: the same policy as a synchronous {@link AdmissionGate} for one
   * client, or `undefined` when this configuration needs `wrap` (it may queue
   * calls, say). Called once per client at build; the client runs the gates
   * at the inner end of its pipeline in line, with no promise per policy.
   * The gate must behave exactly as `wrap` does.
   */
  admission?(environment: AdmissionEnvironment): AdmissionGate | undefined;
  /** Optional: releases what the policy holds (timers, breaker state); `client.close()` calls it. */
  close?(): void | Promise<void>;
  /**
   * Optional: a new policy with the same settings and none of this one's
   * state (window, counters, queue, timers). A builder gives each client it
   * builds its own instance: the first client gets the instance passed to
   * `.policy()`, every later one a clone. Without `clone`, every client built
   * with the instance shares it (and its state), and it is closed when the
   * last of them closes; pass a factory (`.policy(() => myPolicy())`) for one
   * instance per client instead.
   */
  clone?(): Policy;
  /**
   * Optional: the policy's state as plain JSON (a breaker's state and
   * counts, a limiter's limit and in-flight) for `client.snapshot()` and the
   * status page. Called off the hot path; must not change the state.
   */
  snapshot?(): Readonly<Record<string, unknown>>;
}

/** Composes policies around `inner`, first policy outermost. */
export function composePolicies<T>(policies: readonly Policy[], inner: Invoke<T>): Invoke<T> {
  let invoke = inner;
  for (let i = policies.length - 1; i >= 0; i--) invoke = (policies[i] as Policy).wrap(invoke);
  return invoke;
}
