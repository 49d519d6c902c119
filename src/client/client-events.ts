import type { Attempt } from '../attempts/attempt.js';
import { channels, type DiscoveryErrorMessage, type EjectionMessage, type EndpointsMessage } from '../core/diagnostics.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Outcome } from '../core/outcome.js';
import { breakerStateChannel, type BreakerStateMessage } from '../policies/circuit-breaker.js';

/** What `client.onRetry` listeners receive: a retry is about to be sent. */
export interface RetryEvent {
  readonly service: string;
  /** The number of the attempt being sent: 2 for the first retry. */
  readonly attempt: number;
  /** The endpoint picked for it. */
  readonly endpoint: Endpoint;
  /** The attempt that failed before it (its endpoint and classification: why the retry). */
  readonly previous: { readonly endpoint: Endpoint; readonly outcome: Outcome } | undefined;
}

/** What `client.onEndpointsChanged` listeners receive: this client's endpoint set changed. */
export type EndpointsChangedEvent = EndpointsMessage;
/** What `client.onEjection` listeners receive: one of this client's endpoints left rotation or returned. */
export type EjectionEvent = EjectionMessage;
/** What `client.onBreakerState` listeners receive: a circuit breaker of this client changed state. */
export type BreakerStateEvent = BreakerStateMessage;
/** What `client.onDiscoveryError` listeners receive: this client's discovery failed (the last good set stays in use). */
export type DiscoveryErrorEvent = DiscoveryErrorMessage;

/** Event type per hook name. */
export interface ClientEventMap {
  retry: RetryEvent;
  endpoints: EndpointsChangedEvent;
  ejection: EjectionEvent;
  breakerState: BreakerStateEvent;
  discoveryError: DiscoveryErrorEvent;
}

type Listener<K extends keyof ClientEventMap> = (event: ClientEventMap[K]) => void;

/** The client that made each call, for calls made while someone watches retries (or NODE_DEBUG=meshkit is on). */
export const callOwners = new WeakMap<object, ClientEvents>();

/** Clients watching attempts; the channel subscription lives only while there is one. */
let attemptWatchers = 0;
const onAttemptStart = (message: unknown): void => {
  const attempt = message as Attempt;
  callOwners.get(attempt.call)?.attemptStarted(attempt);
};
const onAttemptEnd = (message: unknown): void => {
  const attempt = message as Attempt;
  callOwners.get(attempt.call)?.attemptEnded(attempt);
};

function watchAttempts(on: boolean): void {
  if (on) {
    if (attemptWatchers++ > 0) return;
    channels.attemptStart.subscribe(onAttemptStart);
    channels.attemptEnd.subscribe(onAttemptEnd);
  } else {
    if (--attemptWatchers > 0) return;
    channels.attemptStart.unsubscribe(onAttemptStart);
    channels.attemptEnd.unsubscribe(onAttemptEnd);
  }
}

/** True for an attempt sent as a hedge (a second attempt racing the first), not a retry. */
export function isHedge(attempt: Attempt): boolean {
  const racing = attempt.call.hedges;
  return racing !== undefined && racing.length > 1;
}

/**
 * One client's typed event hooks (`client.onRetry`, `onEndpointsChanged`,
 * `onEjection`, `onBreakerState`, `onDiscoveryError`). Every hook returns
 * the function that unsubscribes. Nothing is watched while nobody listens:
 * sources check {@link has} (a property read) before building an event.
 * A listener that throws is reported once per hook as the process warning
 * `MESHKIT_HOOK_ERROR` and never breaks a call or the other listeners.
 */
export class ClientEvents {
  readonly service: string;
  readonly #listeners: Partial<Record<keyof ClientEventMap, Set<(event: never) => void>>> = {};
  readonly #breakers: ReadonlySet<object>;
  readonly #warned = new Set<string>();
  /** The last attempt that settled per call, while calls are tracked. */
  readonly #last = new WeakMap<object, { endpoint: Endpoint; outcome: Outcome }>();
  #debug = false;
  #closed = false;
  #offBreakers: (() => void) | undefined = undefined;
  /** True while calls must be recorded in {@link callOwners}: someone watches retries, or the debug log is on. */
  tracking = false;

  /** `breakers`: the policy instances of this client whose state messages belong to it. */
  constructor(service: string, breakers: readonly object[]) {
    this.service = service;
    this.#breakers = new Set(breakers);
  }

  /** True when someone listens for `kind` (sources check it before building an event). */
  has(kind: keyof ClientEventMap): boolean {
    const set = this.#listeners[kind];
    return set !== undefined && set.size > 0;
  }

  /** Adds a listener; returns the function that removes it (calling it again does nothing). */
  on<K extends keyof ClientEventMap>(kind: K, listener: Listener<K>): () => void {
    if (this.#closed) return () => {}; // a closed client has nothing more to tell
    const set = (this.#listeners[kind] ??= new Set()) as unknown as Set<Listener<K>>;
    // The same function added twice is two subscriptions: wrap it so each unsubscribe removes its own.
    const entry: Listener<K> = (event) => listener(event);
    set.add(entry);
    if (set.size === 1) this.#started(kind);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      set.delete(entry);
      if (set.size === 0) this.#stopped(kind);
    };
  }

  /** Calls every listener of `kind`, each guarded. */
  emit<K extends keyof ClientEventMap>(kind: K, event: ClientEventMap[K]): void {
    const set = this.#listeners[kind] as unknown as Set<Listener<K>> | undefined;
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (error) {
        this.#warnOnce(kind, error);
      }
    }
  }

  /** Turns call tracking on for the debug log (NODE_DEBUG=meshkit): the client's calls can then be told apart. */
  debug(): void {
    if (this.#debug) return;
    this.#debug = true;
    this.#track();
  }

  /** The last settled attempt of a tracked call (its endpoint and outcome); undefined when none or not tracked. */
  lastSettled(call: object): { readonly endpoint: Endpoint; readonly outcome: Outcome } | undefined {
    return this.#last.get(call);
  }

  /** @internal One of this client's attempts settled (tracked calls only). */
  attemptEnded(attempt: Attempt): void {
    const outcome = attempt.outcome;
    // A cancelled attempt (a hedge that lost, the call stopped) is not why anything was or was not retried.
    if (outcome === undefined || outcome.reason === 'aborted') return;
    this.#last.set(attempt.call, { endpoint: attempt.endpoint, outcome });
  }

  /** @internal One of this client's attempts is being sent (tracked calls only). */
  attemptStarted(attempt: Attempt): void {
    if (attempt.number < 2 || isHedge(attempt) || !this.has('retry')) return;
    this.emit('retry', { service: this.service, attempt: attempt.number, endpoint: attempt.endpoint, previous: this.#last.get(attempt.call) });
  }

  /** Stops everything this client watches (the client closed). */
  close(): void {
    this.#closed = true;
    for (const kind of Object.keys(this.#listeners) as (keyof ClientEventMap)[]) {
      const set = this.#listeners[kind];
      if (set === undefined || set.size === 0) continue;
      set.clear();
      this.#stopped(kind);
    }
    if (this.#debug) {
      this.#debug = false;
      this.#untrack();
    }
  }

  #started(kind: keyof ClientEventMap): void {
    if (kind === 'retry') this.#track();
    else if (kind === 'breakerState') {
      const listener = (message: unknown): void => {
        const change = message as BreakerStateMessage;
        if (this.#breakers.has(change.breaker)) this.emit('breakerState', change);
      };
      breakerStateChannel.subscribe(listener);
      this.#offBreakers = () => breakerStateChannel.unsubscribe(listener);
    }
  }

  #stopped(kind: keyof ClientEventMap): void {
    if (kind === 'retry') this.#untrack();
    else if (kind === 'breakerState') {
      this.#offBreakers?.();
      this.#offBreakers = undefined;
    }
  }

  #track(): void {
    const was = this.tracking;
    this.tracking = this.#debug || this.has('retry');
    if (!was && this.tracking) watchAttempts(true);
  }

  #untrack(): void {
    const was = this.tracking;
    this.tracking = this.#debug || this.has('retry');
    if (was && !this.tracking) watchAttempts(false);
  }

  #warnOnce(kind: string, error: unknown): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    const detail = error instanceof Error ? error.stack ?? error.message : String(error);
    process.emitWarning(`meshkit: a ${this.service} ${kind} listener threw; calls go on without it (warned once): ${detail}`, {
      code: 'MESHKIT_HOOK_ERROR',
    });
  }
}
