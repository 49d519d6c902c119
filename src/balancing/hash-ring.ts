import type { Endpoint } from '../core/endpoint.js';
import { fmix32, hashString } from './hash.js';

/** Owner ranks are packed below the 32-bit hash in one float64 for a native sort: 2^21 endpoints at most. */
const RANK_SPACE = 2 ** 21;

/**
 * A consistent-hash ring (Karger et al.; Envoy's ring hash): each endpoint
 * owns `entries(endpoint)` points, the k-th at hash(id, k); a key belongs to
 * the first point at or after its hash. Points depend only on the endpoint's
 * id and count, so when an endpoint leaves only its keys move. Ties between
 * equal points go by id order, which a removal does not change.
 */
export class HashRing {
  /** Sorted point hashes. */
  readonly hashes: Uint32Array;
  /** Index (into the endpoint list) owning each point. */
  readonly owners: Int32Array;

  constructor(endpoints: readonly Endpoint[], entries: (endpoint: Endpoint) => number) {
    const count = endpoints.length;
    if (count > RANK_SPACE) throw new RangeError(`ring hash supports at most ${RANK_SPACE} endpoints`);
    const byId = endpoints.map((_, i) => i).sort((a, b) => {
      const x = (endpoints[a] as Endpoint).id;
      const y = (endpoints[b] as Endpoint).id;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    let size = 0;
    const counts = new Int32Array(count);
    for (let i = 0; i < count; i++) size += counts[i] = entries(endpoints[i] as Endpoint);
    const packed = new Float64Array(size);
    let next = 0;
    for (let rank = 0; rank < count; rank++) {
      const index = byId[rank] as number;
      const id = (endpoints[index] as Endpoint).id;
      for (let k = 0; k < (counts[index] as number); k++) {
        packed[next++] = hashString(id, fmix32(k + 1)) * RANK_SPACE + rank;
      }
    }
    packed.sort();
    this.hashes = new Uint32Array(size);
    this.owners = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const value = packed[i] as number;
      const rank = value % RANK_SPACE;
      this.hashes[i] = (value - rank) / RANK_SPACE;
      this.owners[i] = byId[rank] as number;
    }
  }

  /** Position of the first point at or after `hash`, wrapping to 0: a binary search. */
  position(hash: number): number {
    const hashes = this.hashes;
    let low = 0;
    let high = hashes.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((hashes[mid] as number) < hash) low = mid + 1;
      else high = mid;
    }
    return low === hashes.length ? 0 : low;
  }
}
