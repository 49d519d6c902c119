import { toEndpoint, type Endpoint, type EndpointInput } from '../core/endpoint.js';
import { invalidConfig } from '../core/errors.js';
import type { Resolver, ResolverListener, ResolverUpdate } from './resolver.js';

/**
 * Validates a fixed list of endpoints: at least one, each valid, no duplicates.
 * `option` names the list in errors (`endpoints`).
 */
export function toEndpointList(inputs: readonly EndpointInput[], option: string): readonly Endpoint[] {
  if (!Array.isArray(inputs) || inputs.length === 0) throw invalidConfig(option, 'a non-empty array of endpoints', inputs);
  const seen = new Set<string>();
  const endpoints = inputs.map((input, index) => {
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
 * once and throws `ERR_INVALID_CONFIG` naming the bad entry.
 */
export function staticEndpoints(inputs: readonly EndpointInput[]): Resolver {
  const update: ResolverUpdate = Object.freeze({ endpoints: toEndpointList(inputs, 'endpoints'), source: 'static' });
  return Object.freeze({
    source: 'static',
    subscribe(listener: ResolverListener): () => void {
      listener.onUpdate(update);
      return () => {};
    },
  });
}
