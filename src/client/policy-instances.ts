import { invalidConfig } from '../core/errors.js';
import type { AdmissionEnvironment } from '../core/admission.js';
import type { Invoke, Policy } from '../core/policy.js';

/**
 * Which policy instance each built client uses. Stateful policies must not
 * leak state from one client into another (tripping one client's breaker
 * must not open another's; closing one client must not shut the other's
 * breaker down), while a policy passed once to a builder may be built many
 * times.
 */

/** Instances already given to a client: a later build gets a clone when the policy can clone. */
const claimed = new WeakSet<Policy>();
/** Clients holding each instance now: a shared instance is closed by the last of them. */
const holders = new WeakMap<Policy, number>();
/** The policy behind each view {@link held} made (a client's breaker hooks match state messages by instance). */
const underlying = new WeakMap<Policy, Policy>();

/** The policy instance behind a client's view of it; the policy itself for one that is not a view. */
export function policyBehind(view: Policy): Policy {
  return underlying.get(view) ?? view;
}

/** Throws `ERR_INVALID_CONFIG` naming `option` unless `value` is a policy (it has `wrap`). */
export function checkPolicy(value: unknown, option: string): Policy {
  if (value === null || typeof value !== 'object' || typeof (value as Policy).wrap !== 'function') {
    throw invalidConfig(option, 'a policy with wrap(next), or a function returning one', value);
  }
  return value as Policy;
}

/**
 * The instance of `policy` for a client being built: `policy` itself for
 * the first client, a clone for every later one when it has `clone()`, else
 * `policy` again (shared).
 */
export function instanceFor(policy: Policy): Policy {
  if (policy.clone === undefined || !claimed.has(policy)) {
    claimed.add(policy);
    return policy;
  }
  return checkPolicy(policy.clone(), `policy (${policy.name}.clone())`);
}

/**
 * `policy` as one client holds it: the same stages (`wrap` and `admission`
 * return the policy's own, so calls pay nothing for this), and a `close()`
 * that closes the policy only when no other client holds it any more.
 */
export function held(policy: Policy): Policy {
  holders.set(policy, (holders.get(policy) ?? 0) + 1);
  let released = false;
  const view: { -readonly [K in keyof Policy]: Policy[K] } = {
    name: policy.name,
    wrap: <T>(next: Invoke<T>): Invoke<T> => policy.wrap(next),
    close(): void | Promise<void> {
      if (released) return undefined;
      released = true;
      const left = (holders.get(policy) ?? 1) - 1;
      if (left > 0) {
        holders.set(policy, left);
        return undefined;
      }
      holders.delete(policy);
      return policy.close?.();
    },
  };
  if (policy.admission !== undefined) view.admission = (environment: AdmissionEnvironment) => policy.admission?.(environment);
  if (policy.snapshot !== undefined) view.snapshot = () => policy.snapshot?.() ?? {};
  const frozen = Object.freeze(view);
  underlying.set(frozen, policy);
  return frozen;
}
