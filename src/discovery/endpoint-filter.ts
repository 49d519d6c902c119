import type { Endpoint } from '../core/endpoint.js';
import { describeValue, invalidConfig, MeshkitError } from '../core/errors.js';
import { readFunction } from '../core/options.js';
import { RejectedAnswerError } from './rejected-answer.js';
import type { RejectedEntry, Resolver, ResolverListener, ResolverUpdate } from './resolver.js';

/**
 * Decides whether discovery may use an endpoint: `true` keeps it, `false`
 * (or a throw) leaves it out as a rejected entry. Runs when a set arrives,
 * never per call. See `allowCidrs` for a ready-made one.
 */
export type EndpointFilter = (endpoint: Endpoint) => boolean;

/** Reads an optional `endpointFilter` option: undefined, or a function (`ERR_INVALID_CONFIG` otherwise). */
export function readEndpointFilter(value: unknown, option: string): EndpointFilter | undefined {
  return readFunction<EndpointFilter>(value, option);
}

function refusal(endpoint: Endpoint, filter: EndpointFilter, option: string, cause: unknown): MeshkitError {
  const expected = `an endpoint the filter${filter.name === '' ? '' : ` ${filter.name}`} allows`;
  const why = cause === undefined ? '' : ` (the filter threw: ${cause instanceof Error ? cause.message : describeValue(cause)})`;
  return new MeshkitError(
    'ERR_INVALID_CONFIG',
    `Invalid option ${option}: expected ${expected}, got ${describeValue(endpoint.id)}${why}`,
    { option, expected, value: endpoint.id },
    cause === undefined ? undefined : { cause },
  );
}

/** The endpoints `filter` keeps, and a rejected entry (the endpoint and why) for each one it refuses or throws on. */
export function applyEndpointFilter(
  endpoints: readonly Endpoint[], filter: EndpointFilter, option: string,
): { readonly kept: readonly Endpoint[]; readonly refused: readonly RejectedEntry[] } {
  const kept: Endpoint[] = [];
  const refused: RejectedEntry[] = [];
  for (const endpoint of endpoints) {
    let allowed: boolean;
    let thrown: unknown;
    try {
      allowed = filter(endpoint) === true;
    } catch (error) {
      allowed = false;
      thrown = error ?? new Error('the filter threw nothing');
    }
    if (allowed) kept.push(endpoint);
    else refused.push({ entry: endpoint, error: refusal(endpoint, filter, option, thrown) });
  }
  return { kept: Object.freeze(kept), refused: Object.freeze(refused) };
}

/** One subscriber's view through the filter: it reports each refused endpoint once, until it leaves the set and comes back. */
class FilteringListener implements ResolverListener {
  #reported = new Set<string>();

  constructor(readonly listener: ResolverListener, readonly filter: EndpointFilter, readonly option: string) {}

  onUpdate(update: ResolverUpdate): void {
    const { kept, refused } = applyEndpointFilter(update.endpoints, this.filter, this.option);
    const reported = new Set<string>();
    for (const { entry, error } of refused) {
      const id = (entry as Endpoint).id;
      if (!this.#reported.has(id)) this.listener.onRejected?.(entry, error);
      reported.add(id);
    }
    this.#reported = reported;
    if (refused.length === 0) {
      this.listener.onUpdate(update);
      return;
    }
    const rejected = Object.freeze([...(update.rejected ?? []), ...refused]);
    // Every endpoint refused: an error that keeps the last good set, as an answer of invalid entries is.
    if (kept.length === 0) this.listener.onError(new RejectedAnswerError(update.source, rejected));
    else this.listener.onUpdate({ ...update, endpoints: kept, rejected });
  }

  onError(error: Error): void {
    this.listener.onError(error);
  }

  onRejected(entry: unknown, error: Error): void {
    this.listener.onRejected?.(entry, error);
  }
}

/**
 * A resolver that passes on only the endpoints `filter` allows. Refused
 * endpoints are rejected entries (`onRejected`, so `discoveryRejected`
 * events, once per endpoint while it stays in the set); a set whose every
 * endpoint is refused is an error that keeps the last good set
 * ({@link RejectedAnswerError}), never an empty set. The filter runs per
 * subscriber, so clients with different filters still share one registry
 * watch. `consul`, `etcd`, `dns` and `staticEndpoints` take it as their
 * `endpointFilter` option; wrap your own resolver with this.
 * `option` names the filter in errors. Default `'endpointFilter'`.
 */
export function filterResolver(resolver: Resolver, filter: EndpointFilter, option = 'endpointFilter'): Resolver {
  if (typeof filter !== 'function') throw invalidConfig(option, 'a function (endpoint) => boolean', filter);
  const checked = filter;
  const refresh = resolver.refresh;
  return Object.freeze({
    source: resolver.source,
    subscribe: (listener: ResolverListener) => resolver.subscribe(new FilteringListener(listener, checked, option)),
    ...(refresh === undefined ? {} : { refresh: () => refresh.call(resolver) }),
  });
}
