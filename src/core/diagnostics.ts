import * as diagnosticsChannel from 'node:diagnostics_channel';
import type { AttemptContext } from './attempt.js';
import type { BreakerStateMessage } from './breaker-state.js';
import type { CallContext } from './call-context.js';
import type { EjectionReason } from './ejection.js';
import type { Endpoint } from './endpoint.js';
import type { Outcome } from './outcome.js';

/** Published when an attempt starts: the attempt itself (read-only). */
export interface AttemptStartMessage extends AttemptContext {
  readonly startedAt: number;
}

/** Published when an attempt settles, with its classification. */
export interface AttemptEndMessage extends AttemptStartMessage {
  readonly endedAt: number;
  readonly duration: number;
  readonly outcome: Outcome | undefined;
  readonly error: unknown;
}

/** Published when a call settles. */
export interface CallEndMessage {
  readonly call: CallContext;
  readonly endedAt: number;
  readonly error: unknown;
}

/** Published when a client's endpoint set changes. */
export interface EndpointsMessage {
  readonly service: string;
  readonly source: string;
  readonly endpoints: readonly Endpoint[];
  readonly added: readonly Endpoint[];
  readonly removed: readonly Endpoint[];
}

/** Published when discovery reports an error: the registry is unreachable or answered garbage. The last good set stays in use. */
export interface DiscoveryErrorMessage {
  readonly service: string;
  readonly source: string;
  readonly error: Error;
  /** Milliseconds since the set in use last changed (how stale it may be); undefined before the first set. */
  readonly staleForMs: number | undefined;
}

/**
 * Published when a client's endpoint set turns stale (discovery failed while
 * a last good set is in use, which the client keeps using) and again when it
 * is fresh once more (discovery delivered a set). Once per change, not per
 * failed poll: `discoveryError` reports every failure.
 */
export interface DiscoveryStaleMessage {
  readonly service: string;
  readonly source: string;
  /** True when the set just turned stale, false when discovery recovered. */
  readonly stale: boolean;
  /** The failure that made it stale; undefined when it recovered. */
  readonly error: Error | undefined;
  /** Milliseconds since the set in use last changed, when it turned stale; how long it was stale, when it recovered. */
  readonly staleForMs: number;
}

/** Published when one entry of a discovery answer is invalid and left out. */
export interface DiscoveryRejectedMessage {
  readonly service: string;
  readonly source: string;
  /** The entry as the registry gave it. */
  readonly entry: unknown;
  readonly error: Error;
}

/** Published when outlier detection or an active health check takes an endpoint out of rotation, or lets it back. */
export interface EjectionMessage {
  readonly service: string;
  readonly endpoint: Endpoint;
  /** True when it left rotation, false when it returned. */
  readonly ejected: boolean;
  /** Why it was (or had been) ejected. */
  readonly reason: EjectionReason | undefined;
  /** How long it stays out, for time-bound ejections; undefined otherwise. */
  readonly ejectedForMs: number | undefined;
  /** Ejections so far (the multiplier of the next ejection time). */
  readonly ejections: number;
}

/**
 * meshkit's `node:diagnostics_channel` channels. Telemetry subscribes here
 * without patching anything; publishing costs a property read when nobody
 * listens. Messages are live objects: copy what you keep.
 */
export const channels = Object.freeze({
  attemptStart: diagnosticsChannel.channel('meshkit:attempt:start'),
  attemptEnd: diagnosticsChannel.channel('meshkit:attempt:end'),
  callEnd: diagnosticsChannel.channel('meshkit:call:end'),
  endpoints: diagnosticsChannel.channel('meshkit:discovery:endpoints'),
  discoveryError: diagnosticsChannel.channel('meshkit:discovery:error'),
  discoveryRejected: diagnosticsChannel.channel('meshkit:discovery:rejected'),
  discoveryStale: diagnosticsChannel.channel('meshkit:discovery:stale'),
  breakerState: diagnosticsChannel.channel('meshkit:breaker:state'),
  ejection: diagnosticsChannel.channel('meshkit:health:ejection'),
});

/** Message type per channel name, for {@link subscribe}. */
export interface ChannelMessages {
  attemptStart: AttemptStartMessage;
  attemptEnd: AttemptEndMessage;
  callEnd: CallEndMessage;
  endpoints: EndpointsMessage;
  discoveryError: DiscoveryErrorMessage;
  discoveryRejected: DiscoveryRejectedMessage;
  discoveryStale: DiscoveryStaleMessage;
  breakerState: BreakerStateMessage;
  ejection: EjectionMessage;
}

/** Subscribes to one of meshkit's channels with a typed handler; returns the unsubscribe function. */
export function subscribe<K extends keyof ChannelMessages>(name: K, handler: (message: ChannelMessages[K]) => void): () => void {
  const listener = handler as (message: unknown, channelName: string | symbol) => void;
  channels[name].subscribe(listener);
  return () => {
    channels[name].unsubscribe(listener);
  };
}
