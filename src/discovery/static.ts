import { toEndpoint, type Endpoint, type EndpointInput } from '../core/endpoint.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject } from '../core/options.js';
import { applyEndpointFilter, readEndpointFilter, type EndpointFilter } from './endpoint-filter.js';
import type { Resolver, ResolverListener, ResolverUpdate } from './resolver.js';

/** Options of {@link staticEndpoints}. */
export interface StaticEndpointsOptions {
  /**
   * Only endpoints this predicate allows are used (for example
   * `allowCidrs(['10.0.0.0/8'])`); the others are reported to each
   * subscriber as rejected entries. A filter that allows none of the list
   * fails at once. Default none (every endpoint).
   */
  readonly endpointFilter?: EndpointFilter;
}

/**
 * The keys of an endpoint object in a static list (registry values may carry
 * more; a list written by hand may not). `id` lets an `Endpoint` be passed back
 * in; it is recomputed from host and port.
 */
const ENDPOINT_KEYS: readonly string[] = ['host', 'port', 'weight', 'zone', 'tags', 'metadata', 'id'];

/**
 * Validates a fixed list of endpoints: at least one, each valid, no
 * duplicates, no unknown keys in endpoint objects (`wieght`: did you mean
 * `weight`?). `option` names the list in errors (`endpoints`).
 */
export function toEndpointList(inputs: readonly EndpointInput[], option: string): readonly Endpoint[] {
  if (!Array.isArray(inputs) || inputs.length === 0) throw invalidConfig(option, 'a non-empty array of endpoints', inputs);
  const seen = new Set<string>();
  const endpoints = inputs.map((input, index) => {
    if (isOptionsObject(input)) checkOptions(input, `${option}[${index}]`, ENDPOINT_KEYS);
    const endpoint = toEndpoint(input, `${option}[${index}]`);
    if (seen.has(endpoint.id)) throw invalidConfig(`${option}[${index}]`, 'an endpoint not listed twice', endpoint.id);
    seen.add(endpoint.id);
    return endpoint;
  });
  return Object.freeze(endpoints);
}

/**
 * A resolver over a fixed list: `'host:port'` strings or
 * `{ host, port, weight?, zone?, tags?, metadata? }` objects. Validates at
 * once and throws `ERR_INVALID_CONFIG` naming the bad entry (an unspecified
 * address such as `0.0.0.0` or `::` included), or the `endpointFilter` when
 * it allows none of them.
 */
export function staticEndpoints(inputs: readonly EndpointInput[], options: StaticEndpointsOptions = {}): Resolver {
  const checked = checkOptions(options, 'staticEndpoints', ['endpointFilter']);
  const filter = readEndpointFilter(checked['endpointFilter'], 'endpointFilter');
  const all = toEndpointList(inputs, 'endpoints');
  let update: ResolverUpdate = Object.freeze({ endpoints: all, source: 'static' });
  if (filter !== undefined) {
    const { kept, refused } = applyEndpointFilter(all, filter, 'endpointFilter');
    if (kept.length === 0) throw invalidConfig('endpointFilter', 'a filter that allows at least one of the endpoints', all.map((e) => e.id));
    if (refused.length > 0) update = Object.freeze({ endpoints: kept, source: 'static', rejected: refused });
  }
  const { rejected = [] } = update;
  return Object.freeze({
    source: 'static',
    subscribe(listener: ResolverListener): () => void {
      for (const { entry, error } of rejected) listener.onRejected?.(entry, error);
      listener.onUpdate(update);
      return () => {};
    },
  });
}
