import { debuglog } from 'node:util';
import type { EndpointLoad } from '../balancing/balancer.js';
import type { Attempt } from '../attempts/attempt.js';
import type { CallContext } from '../core/call-context.js';
import { subscribe } from '../core/diagnostics.js';
import type { Endpoint } from '../core/endpoint.js';
import { isMeshkitError } from '../core/errors.js';
import { isSafeToRetryAnyMethod, type Outcome } from '../core/outcome.js';
import { breakerStateChannel, type BreakerStateMessage } from '../policies/circuit-breaker.js';
import { callOwners, isHedge, type ClientEvents } from './client-events.js';

/**
 * `NODE_DEBUG=meshkit`: one line per decision on stderr (through
 * `util.debuglog`): each pick and why, each attempt's outcome, each retry and
 * why, why a failed call was not retried, hedges, ejections and returns,
 * breaker transitions, discovery changes and errors. Decided once, when
 * meshkit is imported: when off, nothing is subscribed and no call does any
 * work for it.
 */
const log = debuglog('meshkit');

/** True when `NODE_DEBUG` names meshkit (read once, at import). */
export const debugEnabled: boolean = log.enabled;

/** What the log needs of a client to explain its picks and retries. */
export interface DebugInfo {
  /** The balancer's name (`peak-ewma`, `round-robin`, ...). */
  readonly balancer: string;
  /** The balancer's view of an endpoint's load, when it keeps one. */
  readonly describe: ((endpoint: Endpoint) => EndpointLoad | undefined) | undefined;
  /** The client's attempt limit (retry settings). */
  readonly attempts: number;
}

const clients = new WeakMap<ClientEvents, DebugInfo>();

/** Registers a client with the debug log; does nothing (and costs nothing) when the log is off. */
export function debugClient(events: ClientEvents, info: DebugInfo): void {
  if (!debugEnabled) return;
  clients.set(events, info);
  events.debug();
}

function describeOutcome(outcome: Outcome): string {
  const what = outcome.reason === 'status' || (outcome.reason === 'ok' && outcome.status > 0) ? `status ${outcome.status}` : outcome.reason;
  return outcome.ok ? what : `${what} (blame ${outcome.blame})`;
}

function describeLoad(info: DebugInfo, endpoint: Endpoint): string {
  const load = info.describe?.(endpoint);
  if (load === undefined) return '';
  const parts: string[] = [];
  if (load.inFlight !== undefined) parts.push(`in flight ${load.inFlight}`);
  if (load.latencyMs !== undefined) parts.push(`latency ${load.latencyMs.toFixed(1)} ms`);
  if (load.load !== undefined) parts.push(`cost ${load.load.toFixed(1)}`);
  return parts.length === 0 ? '' : `; ${parts.join(', ')}`;
}

/** Why a call whose last attempt failed was not retried, in the order the executor checks. */
export function whyNoRetry(call: CallContext, outcome: Outcome, error: unknown, attempts: number): string {
  if (!outcome.retryable) return `${outcome.reason === 'status' ? `status ${outcome.status}` : outcome.reason} is not retryable`;
  if (call.stopped !== undefined) return 'the call was stopped (aborted, or the client closed)';
  if (!call.replayable) return 'its body cannot be sent again (a stream)';
  if (!call.idempotent && !isSafeToRetryAnyMethod(outcome)) return 'it is not idempotent';
  if (call.attempts >= attempts) return `all ${attempts} attempts used`;
  if (isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED')) return 'no time left before the deadline';
  return 'the retry budget is spent, or the backoff (or Retry-After) does not fit before the deadline';
}

function onAttemptStart(attempt: Attempt): void {
  const call = attempt.call;
  const owner = callOwners.get(call);
  const info = owner === undefined ? undefined : clients.get(owner);
  const id = attempt.endpoint.id;
  const why: string[] = [];
  if (info !== undefined) why.push(`by ${info.balancer}${describeLoad(info, attempt.endpoint)}`);
  if (call.subset !== undefined) why.push(`subset ${call.subset}`);
  if (call.hashKey !== undefined) why.push('hash key given');
  const tried = call.tried?.filter((e) => e.id !== id).map((e) => e.id) ?? [];
  if (tried.length > 0) why.push(`avoiding tried ${tried.join(', ')}`);
  let kind = 'pick';
  if (isHedge(attempt)) kind = 'hedge';
  else if (attempt.number > 1) {
    kind = 'retry';
    const previous = owner?.lastSettled(call);
    if (previous !== undefined) why.unshift(`after ${describeOutcome(previous.outcome)} on ${previous.endpoint.id}`);
  }
  log('%s %s: attempt %d -> %s (%s)', call.service, kind, attempt.number, id, why.join('; '));
}

function onAttemptEnd(attempt: Attempt): void {
  const outcome = attempt.outcome;
  if (outcome === undefined) return;
  log('%s attempt %d on %s: %s in %d ms', attempt.call.service, attempt.number, attempt.endpoint.id, describeOutcome(outcome),
    Math.round(attempt.endedAt - attempt.startedAt));
}

function onCallEnd(call: CallContext, error: unknown): void {
  const owner = callOwners.get(call);
  const last = owner?.lastSettled(call);
  const info = owner === undefined ? undefined : clients.get(owner);
  if (last === undefined || info === undefined || last.outcome.ok) return;
  log('%s no retry: %s after %d attempt(s); %s', call.service, describeOutcome(last.outcome), call.attempts,
    whyNoRetry(call, last.outcome, error, info.attempts));
}

if (debugEnabled) {
  subscribe('attemptStart', (message) => onAttemptStart(message as Attempt));
  subscribe('attemptEnd', (message) => onAttemptEnd(message as Attempt));
  subscribe('callEnd', (message) => onCallEnd(message.call, message.error));
  subscribe('ejection', (m) => {
    if (m.ejected) log('%s eject %s (%s)%s, ejection %d', m.service, m.endpoint.id, m.reason, m.ejectedForMs === undefined ? '' : ` for ${Math.round(m.ejectedForMs)} ms`, m.ejections);
    else log('%s return %s to rotation (was out for %s)', m.service, m.endpoint.id, m.reason);
  });
  breakerStateChannel.subscribe((message) => {
    const m = message as BreakerStateMessage;
    log('%s breaker %s: %s -> %s', m.service, m.name, m.previous, m.state);
  });
  subscribe('endpoints', (m) => {
    const added = m.added.length === 0 ? '' : ` +${m.added.map((e) => e.id).join(',')}`;
    const removed = m.removed.length === 0 ? '' : ` -${m.removed.map((e) => e.id).join(',')}`;
    log('%s discovery %s: %d endpoint(s)%s%s', m.service, m.source, m.endpoints.length, added, removed);
  });
  subscribe('discoveryError', (m) => {
    log('%s discovery %s failed: %s; %s', m.service, m.source, m.error.message,
      m.staleForMs === undefined ? 'no set yet' : `keeping the last set (${Math.round(m.staleForMs)} ms old)`);
  });
  subscribe('discoveryRejected', (m) => log('%s discovery %s rejected an entry: %s', m.service, m.source, m.error.message));
  subscribe('discoveryStale', (m) => {
    log('%s discovery %s %s', m.service, m.source, m.stale ? `turned stale: ${m.error?.message ?? ''}` : `fresh again after ${Math.round(m.staleForMs)} ms`);
  });
}
