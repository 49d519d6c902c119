/**
 * Load balancers: factories for `client(...).balancer(...)`. Each one turns
 * endpoint sets into pickers behind the seam in `balancer.ts`; see
 * docs/balancing.md for when to use which.
 * @packageDocumentation
 */
export type { Balancer, BalancerEnvironment, BalancerFactory, Picker } from './balancer.js';
export { roundRobin } from './round-robin.js';
export { random } from './random.js';
export { weighted } from './weighted.js';
export { leastRequest, type LeastRequestOptions } from './least-request.js';
export { peakEwma, type PeakEwmaOptions } from './peak-ewma.js';
export { ringHash, type RingHashOptions } from './ring-hash.js';
export { zoneAware, type ZoneAwareOptions } from './zone-aware.js';
