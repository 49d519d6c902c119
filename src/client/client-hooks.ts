import { invalidArgument } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import {
  ClientEvents, type BreakerStateEvent, type DiscoveryErrorEvent, type EjectionEvent, type EndpointsChangedEvent, type RetryEvent,
} from './client-events.js';
import { policyBehind } from './policy-instances.js';

/** `ERR_INVALID_ARGUMENT` unless `listener` is a function. */
function checkListener<F>(listener: F): F {
  if (typeof listener !== 'function') throw invalidArgument('listener', 'a function', listener);
  return listener;
}

/**
 * A client's typed event hooks, for code without OpenTelemetry. Each takes
 * a listener and returns the function that unsubscribes it. They see this
 * client only (two clients of one service name do not see each other's
 * events), cost nothing while nobody listens, and a listener that throws is
 * reported once per hook (process warning `MESHKIT_HOOK_ERROR`) and never
 * breaks a call. Listeners run synchronously where the event happens: keep
 * them short. The diagnostics channels carry the same news process-wide.
 */
export abstract class ClientHooks {
  /** @internal The hooks' listeners and the sources feeding them. */
  protected readonly events: ClientEvents;

  /** @internal */
  protected constructor(service: string, policies: readonly Policy[]) {
    this.events = new ClientEvents(service, policies.map(policyBehind));
  }

  /** Runs `listener` as each retry is sent, with the attempt that failed before it. */
  onRetry(listener: (event: RetryEvent) => void): () => void {
    return this.events.on('retry', checkListener(listener));
  }

  /** Runs `listener` when this client's endpoint set changes (with what was added and removed). */
  onEndpointsChanged(listener: (event: EndpointsChangedEvent) => void): () => void {
    return this.events.on('endpoints', checkListener(listener));
  }

  /** Runs `listener` when outlier detection, a health check or an endpoint breaker takes an endpoint out of rotation or lets it back. */
  onEjection(listener: (event: EjectionEvent) => void): () => void {
    return this.events.on('ejection', checkListener(listener));
  }

  /** Runs `listener` when one of this client's circuit breakers changes state. */
  onBreakerState(listener: (event: BreakerStateEvent) => void): () => void {
    return this.events.on('breakerState', checkListener(listener));
  }

  /** Runs `listener` when discovery fails (the last good set stays in use). */
  onDiscoveryError(listener: (event: DiscoveryErrorEvent) => void): () => void {
    return this.events.on('discoveryError', checkListener(listener));
  }
}
