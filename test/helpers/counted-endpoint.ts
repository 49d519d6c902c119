import type { Endpoint } from '../../src/core/endpoint.js';

/**
 * A frozen copy of `base` whose `id` reads are counted in `counter.reads`:
 * for tests that bound how much of an endpoint set a sync touches.
 */
export function countedEndpoint(base: Endpoint, counter: { reads: number }): Endpoint {
  const copy = { ...base };
  Object.defineProperty(copy, 'id', {
    enumerable: true,
    get: () => {
      counter.reads++;
      return base.id;
    },
  });
  return Object.freeze(copy);
}
