import type { Attributes } from '@opentelemetry/api';
import type { ObserverEnvironment } from '../core/call-observer.js';
import { subscribe, type ChannelMessages } from '../core/diagnostics.js';
import type { CallsInFlight } from './calls-in-flight.js';
import { ATTR } from './semconv.js';

/**
 * Turns the client's breaker and ejection news (its own hooks; for an
 * environment without them, the diagnostics channels filtered by service) into span events on every call span of that client
 * still in flight: those are the calls the change affects (their retries
 * and hedges are picked under the new state), and the call whose failure
 * tripped a breaker or ejected an endpoint is among them, since the policy
 * and the endpoint health filter act before the call settles. Nothing is recorded
 * when no call is in flight (the metrics carry the state). Returns the
 * function that unsubscribes.
 */
export function forwardClientEvents(environment: ObserverEnvironment, calls: Pick<CallsInFlight, 'size' | 'values'>): () => void {
  const addToCalls = (name: string, attributes: Attributes): void => {
    for (const state of calls.values()) {
      const span = state.span;
      if (span !== undefined && span.isRecording()) span.addEvent(name, attributes);
    }
  };
  const { service, hooks } = environment;
  const onBreaker = (message: ChannelMessages['breakerState']): void => {
    if (calls.size === 0) return;
    addToCalls('meshkit.breaker.state_change', {
      [ATTR.policy]: message.name,
      [ATTR.breakerState]: message.state,
      'meshkit.breaker.previous_state': message.previous,
    });
  };
  const onEjection = (message: ChannelMessages['ejection']): void => {
    if (calls.size === 0) return;
    const attributes: Attributes = {
      [ATTR.endpointId]: message.endpoint.id,
      'meshkit.ejections': message.ejections,
    };
    if (message.reason !== undefined) attributes['meshkit.ejection.reason'] = message.reason;
    if (message.ejectedForMs !== undefined) attributes['meshkit.ejection.duration_ms'] = message.ejectedForMs;
    addToCalls(message.ejected ? 'meshkit.endpoint.ejected' : 'meshkit.endpoint.returned', attributes);
  };
  const offBreaker = hooks !== undefined
    ? hooks.onBreakerState(onBreaker)
    : subscribe('breakerState', (message) => message.service === service && onBreaker(message));
  const offEjection = hooks !== undefined
    ? hooks.onEjection(onEjection)
    : subscribe('ejection', (message) => message.service === service && onEjection(message));
  return () => {
    offBreaker();
    offEjection();
  };
}
